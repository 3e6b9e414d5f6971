/// An error raised while reading or validating a checkpoint: the reading and format domain.
///
/// Every error names the file it concerns and, where it applies, the byte offset and the
/// tensor. ``description`` renders all of that as one line suitable for a terminal or a log:
/// `model.safetensors: offset 8: header is not valid UTF-8`.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible, LocatedError {
  /// The broad class of failure, stable across releases.
  public enum Kind: String, Sendable, Codable {
    /// The file could not be opened, read, written or mapped.
    case io
    /// The bytes do not form a valid file of the expected format.
    case malformed
    /// The file is valid but uses a feature this tool does not support.
    case unsupported
    /// The file asks for something a safe reader refuses (a pickle global, an opcode).
    case refused
    /// A resource cap (header size, tensor count, nesting depth) was exceeded.
    case limitExceeded
    /// A required file or tensor is missing.
    case notFound
    /// The bytes asked for were not fetched: a stand-in of a remote file holds only its header
    /// and the ranges read by HTTP Range (``PresentBytes``).
    case notFetched
  }

  /// The broad class of failure.
  public var kind: Kind
  /// The path of the file concerned, as the user would recognise it.
  public var file: String
  /// The byte offset within `file` where the problem was found, if meaningful.
  public var offset: UInt64?
  /// The tensor concerned, if any.
  public var tensor: String?
  /// A short human reason, without the file name.
  public var reason: String

  /// Creates an error.
  package init(
    _ kind: Kind, file: String, offset: UInt64? = nil, tensor: String? = nil, reason: String
  ) {
    self.kind = kind
    self.file = file
    self.offset = offset
    self.tensor = tensor
    self.reason = reason
  }

  /// One line: file, offset, tensor and reason, escaped (``LocatedError/line``).
  public var description: String { line }
}
