#ifndef SPECULATORS_CWRITEBACK_H
#define SPECULATORS_CWRITEBACK_H

#include <stdint.h>

/// Asks the kernel to start writing `length` bytes at `offset` of `fd` back to disk, without
/// waiting (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`). A hint: does nothing elsewhere.
/// Returns 0, or -1 with errno set.
int speculators_start_writeback(int fd, int64_t offset, int64_t length);

#endif
