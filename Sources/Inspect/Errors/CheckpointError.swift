/// An error raised while reading, validating or writing a checkpoint.
///
/// Every error names the file it concerns and, where it applies, the byte offset and the
/// tensor. ``description`` renders all of that as one line suitable for a terminal or a log:
/// `model.safetensors: offset 8: header is not valid UTF-8`.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
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
    /// The caller passed an argument that cannot be honoured.
    case invalidArgument
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
  public init(
    _ kind: Kind, file: String, offset: UInt64? = nil, tensor: String? = nil, reason: String
  ) {
    self.kind = kind
    self.file = file
    self.offset = offset
    self.tensor = tensor
    self.reason = reason
  }

  /// One line: file, offset, tensor and reason.
  ///
  /// Names in a message come from untrusted files, so control characters and bidirectional
  /// formatting characters are escaped (``printable(_:)``): the line stays one line and cannot
  /// drive the terminal it is printed on.
  public var description: String {
    var parts = [file]
    if let offset { parts.append("offset \(offset)") }
    if let tensor { parts.append("tensor '\(tensor)'") }
    return Self.printable(parts.joined(separator: ": ") + ": " + reason)
  }

  /// `text` with C0 controls and DEL escaped as `\xHH`, and C1 controls and bidirectional
  /// formatting characters (U+200E/F, U+202A–U+202E, U+2066–U+2069) as `\u{HHHH}`.
  public static func printable(_ text: String) -> String {
    func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
      switch scalar.value {
      case 0..<0x20, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
      default: return false
      }
    }
    guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if !isUnsafe(scalar) {
        out.unicodeScalars.append(scalar)
      } else if scalar.value < 0x80 {
        let hex = String(scalar.value, radix: 16)
        out += "\\x" + (hex.count < 2 ? "0" : "") + hex
      } else {
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      }
    }
    return out
  }
}
