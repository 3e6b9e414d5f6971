import Inspect
import Platform

/// Where a checkpoint came from, as the report and the audit manifest record it: the argument
/// as given, the local path read, and the Hub id and commit for Hub sources.
///
/// Built from the ``ResolvedSource`` of ``SourceResolver``; which files a run downloaded is
/// deliberately left out (it differs between a first and a cached run, and the manifest must
/// be byte-identical across runs).
public struct SourceProvenance: Sendable, Hashable {
  /// The argument as given.
  public var given: String
  /// The absolute local path read (a directory or a file).
  public var resolvedPath: String
  /// `org/name` for Hub sources.
  public var hubID: String?
  /// The commit the Hub revision resolved to.
  public var revision: String?

  /// Creates provenance.
  package init(given: String, resolvedPath: String, hubID: String? = nil, revision: String? = nil) {
    self.given = given
    self.resolvedPath = resolvedPath
    self.hubID = hubID
    self.revision = revision
  }

  /// The provenance of a resolved source.
  package init(_ resolved: ResolvedSource) {
    self.init(given: resolved.given, resolvedPath: resolved.path, hubID: resolved.hubID, revision: resolved.revision)
  }
}

extension ResolvedSource {
  /// The path to open: what the user typed for local sources (so messages name it as typed),
  /// the cache path for Hub and URL sources.
  var openPath: String { origin == .local ? given : path }
}

/// The canonical absolute form of an existing path (symbolic links resolved); the path itself
/// when it does not exist.
func canonicalPath(_ path: String) -> String {
  guard let resolved = realpath(path, nil) else { return path }
  defer { free(resolved) }
  return String(cString: resolved)
}
