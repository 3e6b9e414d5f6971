// Keeps the release binary's glibc floor at 2.34 (Ubuntu 22.04, RHEL 9, Amazon Linux 2023,
// Debian 12) although it is linked on a newer glibc (scripts/build_release.sh).
//
// Three functions the statically linked archives call would otherwise raise the floor:
// - arc4random (GLIBC_2.36), which libstdc++'s std::random_device calls: given here from
//   getrandom(2) (GLIBC_2.25), aborting on failure as glibc's own does;
// - hypot and hypotf (GLIBC_2.35, a new version of old functions), which Foundation and the
//   Swift Glibc overlay call: forwarded to the original versions every glibc still exports.
// All have hidden visibility, so the binary exports none of them.

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

#define COMPAT_API __attribute__((visibility("hidden")))

COMPAT_API uint32_t arc4random(void) {
  uint32_t value = 0;
  size_t filled = 0;
  while (filled < sizeof value) {
    ssize_t got = getrandom((char *)&value + filled, sizeof value - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      abort();
    }
    filled += (size_t)got;
  }
  return value;
}

#if defined(__x86_64__)
#define BASE_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define BASE_VERSION "GLIBC_2.17"
#else
#error "glibc_compat.c: no base glibc symbol version known for this architecture"
#endif

double original_hypot(double, double);
float original_hypotf(float, float);
__asm__(".symver original_hypot, hypot@" BASE_VERSION);
__asm__(".symver original_hypotf, hypotf@" BASE_VERSION);

COMPAT_API double hypot(double x, double y) { return original_hypot(x, y); }
COMPAT_API float hypotf(float x, float y) { return original_hypotf(x, y); }
