/// An error that names where it happened: a file (or a source, an argument, an output
/// directory), and where they apply the byte offset and the tensor.
///
/// Each domain has its own error type — ``CheckpointError`` for reading a checkpoint,
/// ``UsageError`` for a caller's argument, `SourceError` in `ModelSources`, `ConversionError`
/// in `Convert`, `ProbeError` in `Probe` — and all of them render through ``line``, so every
/// error the tool prints has one shape: `file: offset N: tensor 'x': reason`.
package protocol LocatedError: Error, Sendable, CustomStringConvertible {
  /// The path of the file (or the source, argument or directory) concerned, as the user named it.
  var file: String { get }
  /// The byte offset within `file` where the problem was found, if meaningful.
  var offset: UInt64? { get }
  /// The tensor concerned, if any.
  var tensor: String? { get }
  /// A short human reason, without the file name.
  var reason: String { get }
}

extension LocatedError {
  /// No offset, for errors that never point into a file.
  package var offset: UInt64? { nil }

  /// One line: file, offset, tensor and reason.
  ///
  /// Names in a message come from untrusted files, so control characters and bidirectional
  /// formatting characters are escaped (``TerminalText``): the line stays one line and cannot
  /// drive the terminal it is printed on.
  package var line: String {
    var parts = [file]
    if let offset { parts.append("offset \(offset)") }
    if let tensor { parts.append("tensor '\(tensor)'") }
    return TerminalText.escaped(parts.joined(separator: ": ") + ": " + reason)
  }
}
