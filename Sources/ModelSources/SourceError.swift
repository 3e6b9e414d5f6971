import Inspect

/// Why a Hub id, a URL or a cached copy could not be turned into local files: the sources
/// domain (what the files then hold is ``CheckpointError``'s).
///
/// `file` names the source as the user gave it, the Hub file (`org/name: config.json`), the URL
/// or the cache path concerned; ``description`` renders it as one line
/// (`org/name: HTTP 404 ...`).
public struct SourceError: Error, Sendable, Equatable, CustomStringConvertible, LocatedError {
  /// The broad class of failure.
  package enum Kind: Sendable, Equatable {
    /// Not a usable Hub id, revision, endpoint or URL.
    case invalidReference
    /// No such local path, repository, revision or file, or offline with nothing cached.
    case notFound
    /// The server could not be reached at all.
    case unreachable
    /// A transfer failed, stalled or stopped short, or the server answered with an error status.
    case transfer
    /// The server's answer is not what was asked for (sizes, ranges, checksums, listings).
    case unexpectedAnswer
    /// An answer exceeds a size limit.
    case limitExceeded
    /// The files are not one checkpoint's weights (several indexes, several weights files).
    case unsupportedLayout
    /// The local cache could not be read or written.
    case cache
  }

  /// The broad class of failure.
  package var kind: Kind
  /// The source, Hub file, URL or cache path concerned.
  package var file: String
  /// The byte offset within `file`, if meaningful.
  package var offset: UInt64?
  /// The tensor concerned, if any.
  package var tensor: String?
  /// A short human reason, without `file`.
  package var reason: String

  /// Creates an error.
  package init(_ kind: Kind, file: String, offset: UInt64? = nil, tensor: String? = nil, reason: String) {
    self.kind = kind
    self.file = file
    self.offset = offset
    self.tensor = tensor
    self.reason = reason
  }

  /// One printable line: file, offset, tensor and reason.
  public var description: String { line }
}

extension SHA256Hasher {
  /// Starts a digest of `file` (a download, a cached piece, a source's name): a failure is a
  /// ``SourceError`` naming it.
  init(source file: String) throws(SourceError) {
    do {
      try self.init()
    } catch {
      throw SourceError(.cache, file: file, reason: error.description)
    }
  }
}
