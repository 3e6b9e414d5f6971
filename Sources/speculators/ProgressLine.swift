import Inspect
import Platform
import Synchronization

/// A one-line byte progress indicator on stderr (`hashing  42%  1.1 GiB of 2.7 GiB  310.5 MiB/s`).
///
/// Drawn only when stderr is a terminal and the work has already taken about a second, redrawn
/// at most ten times a second, and erased when the work ends, so piped and short runs print
/// nothing.
final class ProgressLine: Sendable {
  private let label: String
  private let enabled: Bool
  private let start = ContinuousClock.now
  private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

  init(_ label: String) {
    self.label = label
    enabled =
      isatty(STDERR_FILENO) != 0 && getenv("TERM").map { String(cString: $0) } != "dumb"
  }

  /// The handler to pass to library calls.
  var handler: (@Sendable (Int, Int) -> Void)? {
    guard enabled else { return nil }
    return { [self] done, total in update(done: done, total: total) }
  }

  /// Whether anything will ever be drawn (stderr is a terminal).
  var isActive: Bool { enabled }

  /// Shows `done` of `total` bytes, the percentage and the rate so far.
  func update(done: Int, total: Int) {
    guard total > 0 else { return }
    draw {
      let percent = min(100, Int(Double(done) / Double(total) * 100))
      let elapsed = ContinuousClock.now - start
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      let rate = seconds > 0 ? Int(Double(done) / seconds) : 0
      return "\(label)  \(percent)%  \(HumanUnits.bytes(done)) of \(HumanUnits.bytes(total))  \(HumanUnits.bytes(rate))/s"
    }
  }

  /// Redraws the line with `text` when enabled, after the first second, at most ten times a
  /// second (`text` is only evaluated when it will be drawn).
  func draw(_ text: () -> String) {
    guard enabled else { return }
    let now = ContinuousClock.now
    guard now - start >= .seconds(1) else { return }
    let due = lastDraw.withLock { last -> Bool in
      if let last, now - last < .milliseconds(100) { return false }
      last = now
      return true
    }
    guard due else { return }
    writeStandardError("\r\u{1B}[K" + text())
  }

  /// Erases the line if it was drawn.
  func finish() {
    let drawn = lastDraw.withLock { last -> Bool in
      defer { last = nil }
      return last != nil
    }
    if drawn { writeStandardError("\r\u{1B}[K") }
  }
}
