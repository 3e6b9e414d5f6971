import Foundation
import ModelSources
import Platform
import Synchronization

extension DownloadProgress {
  /// Progress on stderr: a throttled, self-overwriting line when stderr is a terminal, otherwise
  /// one line per finished or retried file (so logs stay readable).
  static func standardError() -> DownloadProgress {
    let reporter = TerminalProgressReporter(isTerminal: isatty(STDERR_FILENO) != 0)
    return DownloadProgress { reporter.report($0) }
  }
}

/// Renders download events on stderr.
final class TerminalProgressReporter: Sendable {
  private struct State {
    var lastDraw: ContinuousClock.Instant?
    var startedAt: ContinuousClock.Instant?
    var startBytes: Int64 = 0
  }

  private let isTerminal: Bool
  private let state = Mutex(State())
  private static let redrawInterval = Duration.milliseconds(100)

  init(isTerminal: Bool) {
    self.isTerminal = isTerminal
  }

  func report(_ event: DownloadEvent) {
    switch event {
    case .started(let label, _, let resumedAt):
      state.withLock { $0 = State(lastDraw: nil, startedAt: .now, startBytes: resumedAt) }
      if resumedAt > 0 && !isTerminal {
        emit("resuming \(label) at \(Self.formatBytes(resumedAt))\n")
      }
    case .progressed(let label, let bytes, let total):
      guard isTerminal else { return }
      let now = ContinuousClock.now
      let line: String? = state.withLock { state in
        if let last = state.lastDraw, now - last < Self.redrawInterval { return nil }
        state.lastDraw = now
        let rate = state.startedAt.map { Self.rate(bytes - state.startBytes, since: $0, now: now) } ?? ""
        return Self.progressLine(label: label, bytes: bytes, total: total, rate: rate)
      }
      if let line { emit("\r\u{1B}[K" + line) }
    case .finished(let label, let bytes):
      let prefix = isTerminal ? "\r\u{1B}[K" : ""
      emit(prefix + "downloaded \(label) (\(Self.formatBytes(bytes)))\n")
    case .retrying(let label, let bytes, let reason):
      let prefix = isTerminal ? "\r\u{1B}[K" : ""
      emit(prefix + "connection lost on \(label) at \(Self.formatBytes(bytes)) (\(reason)); resuming\n")
    }
  }

  static func progressLine(label: String, bytes: Int64, total: Int64?, rate: String) -> String {
    guard let total, total > 0 else { return "\(label)  \(formatBytes(bytes))  \(rate)" }
    let percent = Int(Double(bytes) / Double(total) * 100)
    return "\(label)  \(percent)%  \(formatBytes(bytes)) / \(formatBytes(total))  \(rate)"
  }

  static func rate(_ bytes: Int64, since start: ContinuousClock.Instant, now: ContinuousClock.Instant) -> String {
    let elapsed = now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    guard seconds > 0.05 else { return "" }
    return formatBytes(Int64(Double(bytes) / seconds)) + "/s"
  }

  /// `1.5 MB`-style sizes (decimal units, like the Hub's web pages).
  static func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
  }

  private func emit(_ text: String) {
    var copy = text
    copy.withUTF8 { buffer in
      guard let base = buffer.baseAddress else { return }
      var offset = 0
      while offset < buffer.count {
        let written = write(STDERR_FILENO, base + offset, buffer.count - offset)
        if written <= 0 { return }
        offset += written
      }
    }
  }
}
