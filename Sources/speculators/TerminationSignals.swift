import Convert
import Inspect
import Platform

/// How the process ends on SIGINT, SIGTERM, SIGHUP and SIGQUIT, and after a guarded SIGBUS
/// (``FaultGuard``): what the run created is removed (``TerminationCleanup``) and the process
/// exits with 128 + the signal's number (2 after a SIGBUS on a truncated input, whose one-line
/// error is already written).
///
/// The signals are blocked in every thread (the mask is set before any other thread exists and
/// inherited by all of them) and taken by one thread in `sigwait`, so the clean-up runs as
/// ordinary code, never inside a signal handler.
enum TerminationSignals {
  /// Sent by the SIGBUS guard to hand the exit to the waiting thread.
  static let faultNotification = SIGUSR2
  static let handled = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, faultNotification]

  /// Blocks the signals and starts the thread that waits for them. Call first in `main`.
  static func install() {
    var set = signalSet()
    pthread_sigmask(SIG_BLOCK, &set, nil)
    FaultGuard.install(notifying: faultNotification)
    var thread = pthread_t()
    _ = pthread_create(&thread, nil, { _ in
      var set = TerminationSignals.signalSet()
      while true {
        var number: Int32 = 0
        if sigwait(&set, &number) == 0 { TerminationSignals.terminate(number) }
      }
    }, nil)
  }

  static func signalSet() -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in handled { sigaddset(&set, signal) }
    return set
  }

  /// Removes what the run created and exits (without running exit handlers, which other
  /// threads may still be using).
  static func terminate(_ signal: Int32) -> Never {
    TerminationCleanup.removeAll {
      let fault = FaultGuard.exitStatus
      _exit(fault != 0 ? fault : 128 + signal)
    }
  }
}
