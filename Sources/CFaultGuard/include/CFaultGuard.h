#ifndef SPECULATORS_CFAULTGUARD_H
#define SPECULATORS_CFAULTGUARD_H

#include <stddef.h>

/// Records that [base, base + length) maps the file at `path`, so that a SIGBUS there (the
/// file was truncated while mapped) ends the process with a one-line error naming the file
/// instead of a crash. Returns a slot for ``speculators_fault_guard_unregister``, or -1 when
/// every slot is taken (the range is then unguarded). Thread-safe.
int speculators_fault_guard_register(const void *base, size_t length, const char *path);

/// Forgets a range recorded by ``speculators_fault_guard_register`` (before it is unmapped).
void speculators_fault_guard_unregister(int slot);

/// Installs the SIGBUS handler (once; later calls do nothing). On a fault inside a registered
/// range it writes `error: <path>: the file changed while being read (it is now shorter than
/// when it was opened)` to stderr, records exit status 2 (``speculators_fault_guard_exit_status``)
/// and sends `notify_signal` to the process, whose handler cleans up and exits; the faulting
/// thread then waits for the exit. A fault anywhere else gets the default action (a crash).
void speculators_fault_guard_install(int notify_signal);

/// The exit status recorded by a guarded fault (2), or 0 when none happened.
int speculators_fault_guard_exit_status(void);

#endif
