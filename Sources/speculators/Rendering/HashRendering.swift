import Inspect

/// The text `speculators hash` prints: sha256sum (or `xxhsum -H2`) lines for the files, then one
/// `#` comment line per tensor.
enum HashRendering {
  /// File lines are exactly what sha256sum writes (``HashReport/checksumLine(digest:name:)``: a
  /// name holding a backslash, newline or carriage return is escaped and the line led by `\`),
  /// so `sha256sum -c` checks them. No checksum form can hold other control characters, so
  /// `onTerminal` those are shown escaped (``TerminalText``) rather than sent to the terminal.
  /// Tensor lines are comments no checker reads: their names are always escaped.
  static func text(_ report: HashReport, onTerminal: Bool) -> String {
    var out = ""
    for file in report.files {
      let line = HashReport.checksumLine(digest: file.digest, name: file.name)
      out += (onTerminal ? TerminalText.escaped(line) : line) + "\n"
    }
    if !report.tensors.isEmpty {
      out += HashReport.tensorHeading + "\n"
      for tensor in report.tensors {
        out += TerminalText.escaped("# " + HashReport.checksumLine(digest: tensor.xxh3, name: tensor.name)) + "\n"
      }
    }
    return out
  }
}
