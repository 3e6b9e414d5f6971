/// A caller's argument that cannot be honoured: a flag value, an option combination, an output
/// path or an `--allow-drop` pattern — the usage domain, beside ``CheckpointError`` for what a
/// checkpoint's files hold.
///
/// `file` names the argument (a flag such as `--values`, or the path or source the caller
/// gave); ``description`` renders it as one line (``LocatedError/line``):
/// `--values: a structure-only comparison reads no values`. A flag whose value is a text the
/// tool parses (the JSON of `--algorithm-kwargs`) names the byte `offset` in that text.
public struct UsageError: Error, Sendable, Hashable, CustomStringConvertible, LocatedError {
  /// The argument concerned: a flag, or the path or source as the caller gave it.
  package var file: String
  /// The byte offset in the argument's text, where it is parsed (invalid JSON).
  package var offset: UInt64?
  /// The tensor concerned, if any.
  package var tensor: String?
  /// A short human reason, without the argument.
  package var reason: String

  /// Creates an error.
  package init(_ file: String, offset: UInt64? = nil, tensor: String? = nil, reason: String) {
    self.file = file
    self.offset = offset
    self.tensor = tensor
    self.reason = reason
  }

  /// One printable line: argument, tensor and reason.
  public var description: String { line }
}
