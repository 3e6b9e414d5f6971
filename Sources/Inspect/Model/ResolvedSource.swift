import Inspect

/// One file a resolved source provides.
package struct SourceFile: Sendable, Hashable {
  /// The name inside the model (`model-00001-of-00002.safetensors`, `config.json`).
  package var name: String
  /// Where it is on this machine.
  package var localPath: String
  /// Whether this resolution downloaded it (false: it came from the cache or a local path).
  package var downloaded: Bool
  /// The SHA-256 the source vouches for (a Hub LFS file's id, or a URL's `#sha256=`), if any.
  package var sha256: String?
  /// True for a local stand-in of a remote safetensors file: its size and header are real, its
  /// data region holds only ``ranges``; every other byte is absent. The reading layer refuses
  /// absent bytes (``PresentBytes``), so only what was fetched can be read from it.
  package var isPartial: Bool
  /// The byte ranges read from the remote file (header included) for a partial file.
  package var ranges: [FetchedRange]

  /// Creates a record.
  package init(
    name: String, localPath: String, downloaded: Bool, sha256: String? = nil, isPartial: Bool = false,
    ranges: [FetchedRange] = []
  ) {
    self.name = name
    self.localPath = localPath
    self.downloaded = downloaded
    self.sha256 = sha256
    self.isPartial = isPartial
    self.ranges = ranges
  }

  /// Whether bytes `offset ..< offset + length` are real: the whole file, or inside ``ranges``.
  package func holds(offset: Int, length: Int) -> Bool {
    guard isPartial else { return true }
    return FetchedRange.cover(ranges, offset: Int64(offset), length: Int64(length))
  }
}

/// A byte range of a remote file that was read (by HTTP Range) and checked.
package struct FetchedRange: Sendable, Hashable {
  /// The file's name in the model (`model-00001-of-00004.safetensors`).
  package var file: String
  /// The first byte's offset in the file.
  package var offset: Int64
  /// How many bytes.
  package var length: Int64
  /// SHA-256 of those bytes.
  package var sha256: String

  /// Creates a record.
  package init(file: String, offset: Int64, length: Int64, sha256: String) {
    self.file = file
    self.offset = offset
    self.length = length
    self.sha256 = sha256
  }
}

/// A model reference turned into files on this machine, with where they came from.
public struct ResolvedSource: Sendable, Hashable {
  /// Where the model came from.
  public enum Origin: String, Sendable, Hashable {
    /// A path on this machine.
    case local
    /// A Hugging Face Hub repository (from the cache or downloaded into it).
    case hub
    /// An `http(s)` URL (downloaded into the URL cache).
    case url
  }

  /// The reference exactly as the user gave it.
  public var given: String
  /// Where it came from.
  public var origin: Origin
  /// What the command opens: a directory (local directory, Hub snapshot, URL folder) or a file.
  public var path: String
  /// `org/name` for Hub sources.
  public var hubID: String?
  /// The revision the user asked for (`main` when none was given) for Hub sources.
  public var requestedRevision: String?
  /// The commit the revision resolved to, for Hub sources.
  public var revision: String?
  /// The URL for URL sources.
  public var url: String?
  /// The files selected for the command's ``SourceNeeds`` (Hub and URL sources; empty for local
  /// paths, which the command reads as they are).
  package var files: [SourceFile]

  /// Creates a resolved source.
  package init(
    given: String, origin: Origin, path: String, hubID: String? = nil, requestedRevision: String? = nil,
    revision: String? = nil, url: String? = nil, files: [SourceFile] = []
  ) {
    self.given = given
    self.origin = origin
    self.path = path
    self.hubID = hubID
    self.requestedRevision = requestedRevision
    self.revision = revision
    self.url = url
    self.files = files
  }

  /// A path on this machine; ``path`` is its absolute form, ``given`` what the user typed
  /// (`path` itself unless, say, a `file://` URL named it).
  public static func local(_ path: String, given: String? = nil) -> ResolvedSource {
    ResolvedSource(given: given ?? path, origin: .local, path: FileSystem.absolute(path))
  }

  /// Whether some file is a partial stand-in (see ``SourceFile/isPartial``).
  package var isPartial: Bool { files.contains(where: \.isPartial) }

  /// Names of the files this resolution downloaded (the rest came from the cache).
  package var downloadedFiles: [String] { files.filter(\.downloaded).map(\.name) }

  /// Local paths of the selected weights files (not config.json, not an index), e.g. the one
  /// shard holding `embed_tokens` for ``SourceNeeds/embeddings``.
  package var weightPaths: [String] {
    files.filter { $0.name != "config.json" && !$0.name.hasSuffix(".index.json") }.map(\.localPath)
  }

  /// The local path of file `name` (e.g. the shard holding `embed_tokens`), if it was selected.
  package func localPath(of name: String) -> String? {
    files.first { $0.name == name }?.localPath
  }

  /// Provenance for the audit manifest's `source` / `verifier` object: `given`,
  /// `resolved_path`, `hub_id`, `revision` (the commit), `url`, and `downloaded` (file names).
  package var provenanceJSON: JSONValue {
    func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
    return [
      "given": .string(given),
      "resolved_path": .string(path),
      "hub_id": optional(hubID),
      "revision": optional(revision),
      "url": optional(url),
      "downloaded": .array(downloadedFiles.map { .string($0) }),
    ]
  }
}
