import CFaultGuard

/// Turns a file truncated while it is mapped into a one-line error instead of a crash.
///
/// Every ``MappedFile`` records its range here. Reading a page that no longer exists (another
/// process truncated or rewrote the file) raises SIGBUS; once ``install(notifying:)`` has run,
/// the handler checks that the address lies in a recorded mapping, writes
/// `error: <file>: the file changed while being read (…)` to stderr, records exit status 2 and
/// sends `notifying` to the process. The process's handler of that signal removes what the
/// run created and exits with ``exitStatus``. A SIGBUS outside every mapping keeps its default
/// action.
package enum FaultGuard {
  /// Installs the SIGBUS handler (later calls do nothing).
  package static func install(notifying signal: Int32) {
    speculators_fault_guard_install(signal)
  }

  /// 2 once a guarded fault happened, else 0.
  package static var exitStatus: Int32 { speculators_fault_guard_exit_status() }
}
