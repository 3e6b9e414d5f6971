import Inspect
import Platform
import Synchronization

/// The terminal rendering of ``ProgressUpdate``s: one self-erasing line on stderr
/// (`hashing  42%  1.1 GiB of 2.7 GiB  310.5 MiB/s`), the only progress renderer of the tool.
///
/// Drawn only when stderr is a terminal (and `TERM` is not `dumb`) and the work has already
/// taken ``delay``, redrawn at most every ``interval``, and erased by ``finish()`` (or before a
/// ``log(_:)`` line), so piped and short runs print nothing. The rate is measured from the
/// first update of each task (a new task, or ``begin(_:atBytes:)``, restarts it).
final class ProgressLine: Sendable {
  private struct State {
    var lastDraw: ContinuousClock.Instant?
    var task: String?
    var taskStart: ContinuousClock.Instant
    var taskStartBytes = 0
  }

  private let enabled: Bool
  private let start: ContinuousClock.Instant
  private let delay: Duration
  private let interval: Duration
  private let now: @Sendable () -> ContinuousClock.Instant
  private let write: @Sendable (String) -> Void
  private let state: Mutex<State>

  /// A line on this process's stderr.
  convenience init() {
    self.init(
      isTerminal: isatty(STDERR_FILENO) != 0 && getenv("TERM").map { String(cString: $0) } != "dumb",
      write: writeStandardError)
  }

  /// A line written through `write`, drawn only when `isTerminal`; `now` is the clock (tests
  /// pass one that advances as they say).
  init(
    isTerminal: Bool, delay: Duration = .seconds(1), interval: Duration = .milliseconds(100),
    now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
    write: @escaping @Sendable (String) -> Void
  ) {
    enabled = isTerminal
    self.delay = delay
    self.interval = interval
    self.now = now
    self.write = write
    let started = now()
    start = started
    state = Mutex(State(taskStart: started))
  }

  /// Whether anything will ever be drawn.
  var isActive: Bool { enabled }

  /// The handler to pass to library calls (`nil` when nothing would be drawn, so libraries
  /// skip counting).
  var handler: ProgressHandler? {
    guard enabled else { return nil }
    return { [self] in update($0) }
  }

  /// Starts measuring the rate of `task` afresh, from `bytes` already done (a resumed download).
  func begin(_ task: String, atBytes bytes: Int = 0) {
    let instant = now()
    state.withLock { state in
      state.task = task
      state.taskStart = instant
      state.taskStartBytes = bytes
    }
  }

  /// Shows `progress` (when due).
  func update(_ progress: ProgressUpdate) {
    guard enabled else { return }
    let instant = now()
    let text: String? = state.withLock { state in
      if state.task != progress.task {
        state.task = progress.task
        state.taskStart = instant
        state.taskStartBytes = progress.bytesDone
      }
      guard instant - start >= delay else { return nil }
      if let last = state.lastDraw, instant - last < interval { return nil }
      state.lastDraw = instant
      let rate = Self.rate(progress.bytesDone - state.taskStartBytes, over: instant - state.taskStart)
      return Self.text(progress, bytesPerSecond: rate)
    }
    if let text { write("\r\u{1B}[K" + text) }
  }

  /// Writes `line` (made by the tool, already escaped) and a newline, erasing the progress line
  /// first; written whether or not stderr is a terminal.
  func log(_ line: String) {
    let erase = state.withLock { state -> Bool in
      defer { state.lastDraw = nil }
      return state.lastDraw != nil
    }
    write((erase ? "\r\u{1B}[K" : "") + line + "\n")
  }

  /// Erases the line if it was drawn.
  func finish() {
    let drawn = state.withLock { state -> Bool in
      defer { state.lastDraw = nil }
      return state.lastDraw != nil
    }
    if drawn { write("\r\u{1B}[K") }
  }

  /// The line for `progress` at `bytesPerSecond` (`nil`: not known yet): `task  42%  1.1 GiB of
  /// 2.7 GiB  310.5 MiB/s  3/10 tensors`, `task  1.1 GiB  310.5 MiB/s` without a total, and
  /// `task…` for a stage that counts nothing. The task is escaped for the terminal.
  static func text(_ progress: ProgressUpdate, bytesPerSecond: Int?) -> String {
    var parts = [TerminalText.escaped(progress.task)]
    if let total = progress.bytesTotal, total > 0 {
      let percent = min(100, Int(Double(progress.bytesDone) / Double(total) * 100))
      parts.append("\(percent)%")
      parts.append("\(HumanUnits.bytes(progress.bytesDone)) of \(HumanUnits.bytes(total))")
    } else if progress.bytesDone > 0 {
      parts.append(HumanUnits.bytes(progress.bytesDone))
    }
    if let bytesPerSecond, progress.bytesDone > 0 { parts.append(HumanUnits.bytes(bytesPerSecond) + "/s") }
    if let done = progress.tensorsDone, let total = progress.tensorsTotal {
      parts.append("\(done)/\(total) tensors")
    }
    return parts.count == 1 ? parts[0] + "…" : parts.joined(separator: "  ")
  }

  /// Bytes per second over `elapsed`, or `nil` when too little time has passed to say.
  static func rate(_ bytes: Int, over elapsed: Duration) -> Int? {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    guard seconds >= 0.05 else { return nil }
    return Int(Double(bytes) / seconds)
  }
}
