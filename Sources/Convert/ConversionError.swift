import Inspect

/// Why a conversion did not produce its output: the conversion domain (reading the source is
/// ``CheckpointError``'s, a caller's argument ``UsageError``'s).
///
/// `file` names the output directory, the file being written, or the input whose content the
/// conversion refuses; ``description`` renders it as one line, with the tensor where one is
/// concerned (`converted: the output directory exists and is not empty (pass --force to
/// replace it)`).
public struct ConversionError: Error, Sendable, Equatable, CustomStringConvertible, LocatedError {
  /// The broad class of failure.
  package enum Kind: Sendable, Equatable {
    /// The output directory cannot be used: it exists, is not a directory, holds an input, or
    /// another convert holds its lock.
    case output
    /// The inputs cannot be converted as asked: the draft does not fit its verifier, its format
    /// conflicts with the requested algorithm, an option needs a tensor the draft lacks.
    case refused
    /// Writing the output failed (create, write, sync, rename).
    case write
  }

  /// The broad class of failure.
  package var kind: Kind
  /// The output directory, the file being written, or the input concerned.
  package var file: String
  /// The tensor concerned, if any.
  package var tensor: String?
  /// A short human reason, without `file`.
  package var reason: String

  /// Creates an error.
  package init(_ kind: Kind, file: String, tensor: String? = nil, reason: String) {
    self.kind = kind
    self.file = file
    self.tensor = tensor
    self.reason = reason
  }

  /// One printable line: file, tensor and reason.
  public var description: String { line }
}
