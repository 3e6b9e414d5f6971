import Inspect

/// Why a probe could not run: the inputs, not the draft's quality.
///
/// Every error names the file (and tensor, where one is concerned) and renders as one line
/// (``description``), as the CLI prints it before exiting with status 2.
public struct ProbeError: Error, Sendable, Equatable, CustomStringConvertible, LocatedError {
  /// The broad class of failure.
  public enum Kind: String, Sendable {
    /// The verifier's or the draft's architecture is not one the probe can run.
    case unsupported
    /// The draft does not fit its verifier (hidden size, vocabulary, fc width).
    case mismatch
    /// A prompt, an option or a config value is out of range.
    case invalidInput
    /// An activation became NaN or infinite.
    case nonFinite
    /// A checkpoint could not be read.
    case unreadable
  }

  /// The broad class of failure.
  public var kind: Kind
  /// The file concerned, as the user named it.
  public var file: String
  /// The tensor concerned, if any.
  public var tensor: String?
  /// A short reason, without the file name.
  public var reason: String

  /// Creates an error.
  package init(_ kind: Kind, file: String, tensor: String? = nil, reason: String) {
    self.kind = kind
    self.file = file
    self.tensor = tensor
    self.reason = reason
  }

  /// Wraps a reader error.
  init(_ error: CheckpointError) {
    self.init(.unreadable, file: error.file, tensor: error.tensor, reason: error.description)
  }

  /// One printable line: file, tensor and reason (``LocatedError/line``); a wrapped reader
  /// error as the reader rendered it.
  public var description: String {
    kind == .unreadable ? TerminalText.escaped(reason) : line
  }
}
