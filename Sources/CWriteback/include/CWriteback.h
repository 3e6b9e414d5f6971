#ifndef SPECULATORS_CWRITEBACK_H
#define SPECULATORS_CWRITEBACK_H

#include <stdint.h>

/// Asks the kernel to start writing `length` bytes at `offset` of `fd` back to disk, without
/// waiting (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`). A hint: does nothing elsewhere.
/// Returns 0, or -1 with errno set.
int speculators_start_writeback(int fd, int64_t offset, int64_t length);

/// Turns direct I/O (Linux `O_DIRECT`: writes go from the caller's buffer to the device,
/// bypassing the page cache) on or off for `fd`. Writes must then start at, and span, multiples
/// of the device's logical block size from a buffer aligned to it. Returns 0, or -1 with errno
/// set (EINVAL when the file system does not support it; ENOTSUP off Linux).
int speculators_set_direct_io(int fd, int enabled);

#endif
