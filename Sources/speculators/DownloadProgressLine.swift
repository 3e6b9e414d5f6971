import Inspect
import ModelSources

extension DownloadProgress {
  /// Download events on stderr through a ``ProgressLine``: the transfer's progress as the
  /// self-erasing line on a terminal, and one line per finished, resumed or retried file and
  /// per notice (so logs stay readable when stderr is not a terminal).
  static func standardError() -> DownloadProgress {
    let line = ProgressLine()
    return DownloadProgress { line.report($0) }
  }
}

extension ProgressLine {
  /// Renders one download event.
  func report(_ event: DownloadEvent) {
    switch event {
    case .started(let label, _, let resumedAt):
      begin(label, atBytes: Int(resumedAt))
      if resumedAt > 0 && !isActive {
        log("resuming \(TerminalText.escaped(label)) at \(HumanUnits.bytes(Int(resumedAt)))")
      }
    case .progressed(let progress):
      update(progress)
    case .finished(let label, let bytes):
      log("downloaded \(TerminalText.escaped(label)) (\(HumanUnits.bytes(Int(bytes))))")
    case .notice(let label, let message):
      log("note: \(TerminalText.escaped(label)): \(TerminalText.escaped(message))")
    case .retrying(let label, let bytes, let reason):
      log(
        "connection lost on \(TerminalText.escaped(label)) at \(HumanUnits.bytes(Int(bytes))) "
          + "(\(TerminalText.escaped(reason))); resuming")
    }
  }
}
