// sync_file_range and O_DIRECT are GNU extensions that Swift's Glibc module does not expose.
#if defined(__linux__)
#define _GNU_SOURCE
#include <fcntl.h>
#endif
#include <errno.h>
#include "CWriteback.h"

int speculators_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
  return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd; (void)offset; (void)length;
  return 0;
#endif
}

int speculators_set_direct_io(int fd, int enabled) {
#if defined(__linux__)
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -1;
  flags = enabled ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  return fcntl(fd, F_SETFL, flags);
#else
  (void)fd; (void)enabled;
  errno = ENOTSUP;
  return -1;
#endif
}
