import Inspect

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a checkpoint (the draft or the verifier) comes from.
///
/// Today only local paths exist: a directory, a single weights file, or an index file. Hub ids
/// (`org/name@revision`) and URLs resolve to a local download in a later step; resolution
/// already returns provenance (the string given, the resolved path, hub id and revision) so the
/// audit manifest records it the same way for every kind.
public enum ModelSource: Sendable, Hashable {
  /// A local directory or file.
  case localPath(String)

  /// Interprets a command-line argument.
  public init(argument: String) {
    self = .localPath(argument)
  }

  /// The argument as the user gave it.
  public var given: String {
    switch self {
    case .localPath(let path): return path
    }
  }

  /// Resolves the source to a local path.
  ///
  /// - Throws: ``CheckpointError`` (`.notFound`) when the path does not exist.
  public func resolve() throws(CheckpointError) -> ResolvedSource {
    switch self {
    case .localPath(let path):
      guard !path.isEmpty else {
        throw CheckpointError(.invalidArgument, file: path, reason: "empty path")
      }
      var info = stat()
      guard stat(path, &info) == 0 else {
        let code = errno
        throw CheckpointError(
          code == ENOENT ? .notFound : .io, file: path, reason: String(cString: strerror(code)))
      }
      return ResolvedSource(
        path: path,
        provenance: SourceProvenance(
          given: path, resolvedPath: Self.absolutePath(path), hubID: nil, revision: nil))
    }
  }

  /// The canonical absolute form of an existing path (symbolic links resolved).
  static func absolutePath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}

/// A source resolved to a local path.
public struct ResolvedSource: Sendable, Hashable {
  /// The local path to read (as given, for local sources, so messages name what the user typed).
  public var path: String
  /// Where it came from.
  public var provenance: SourceProvenance
}

/// Where a checkpoint came from, as the audit manifest records it.
public struct SourceProvenance: Sendable, Hashable {
  /// The argument as given.
  public var given: String
  /// The absolute local path read.
  public var resolvedPath: String
  /// The Hub id, for Hub sources.
  public var hubID: String?
  /// The Hub revision (commit), for Hub sources.
  public var revision: String?

  /// Creates provenance.
  public init(given: String, resolvedPath: String, hubID: String? = nil, revision: String? = nil) {
    self.given = given
    self.resolvedPath = resolvedPath
    self.hubID = hubID
    self.revision = revision
  }
}
