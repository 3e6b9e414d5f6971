import Inspect
import Platform

/// One side of a diff: a checkpoint (whose tensor values can be read) or an audit manifest
/// (which records digests, dtypes and shapes, but no values).
struct DiffSide: Sendable {
  /// A tensor as one side knows it.
  struct Tensor: Sendable {
    var name: String
    var dtype: DType
    var shape: [Int]
    /// The file holding it, relative to the checkpoint directory.
    var file: String
    /// Where to read the bytes; `nil` for manifest entries.
    var info: TensorInfo?
    /// The digest recorded by a manifest; `nil` for checkpoint tensors (computed on demand).
    var recordedDigest: String?
  }

  /// A file as one side knows it.
  struct File: Sendable {
    var name: String
    var size: Int
    var kind: CheckpointFileKind
    /// The full path (checkpoint sides), for hashing.
    var path: String?
    /// The SHA-256 recorded by a manifest.
    var recordedSHA256: String?
  }

  /// The path as the user gave it.
  var path: String
  /// Whether this side is an audit manifest.
  var isManifest: Bool
  /// `config.json`, if the side has one (never for a manifest).
  var config: JSONValue?
  /// safetensors metadata by file name.
  var metadata: [String: [String: String]]
  /// Tensors, sorted by name.
  var tensors: [Tensor]
  /// Files, sorted by name.
  var files: [File]
  /// The audit manifest: the side itself, or `speculators-manifest.json` inside a checkpoint.
  var manifest: AuditManifest?
  /// Where ``manifest`` was read from.
  var manifestPath: String?

  private var tensorIndex: [String: Int] = [:]

  /// The tensor named `name`.
  func tensor(named name: String) -> Tensor? {
    tensorIndex[name].map { tensors[$0] }
  }

  /// The Speculators algorithm when this side is a Speculators checkpoint or a conversion
  /// manifest (`speculators_model_type`, or the manifest's `options.algorithm`).
  var speculatorsAlgorithm: String? {
    if isManifest { return manifest?.options.algorithm ?? "unknown" }
    guard let config else { return nil }
    if let type = config["speculators_model_type"]?.stringValue { return type }
    if config["speculators_config"]?.objectMembers != nil {
      return config["speculators_config"]?["algorithm"]?.stringValue ?? "unknown"
    }
    return nil
  }

  /// The side of a checkpoint.
  init(checkpoint: Checkpoint) throws(CheckpointError) {
    path = checkpoint.location
    isManifest = false
    config = checkpoint.config
    metadata = checkpoint.metadata
    let names = Dictionary(checkpoint.files.map { ($0.path, $0.name) }, uniquingKeysWith: { first, _ in first })
    tensors = checkpoint.tensors.map { info in
      Tensor(
        name: info.name, dtype: info.dtype, shape: info.shape,
        file: names[info.file] ?? FileSystem.lastComponent(of: info.file), info: info, recordedDigest: nil)
    }
    files = checkpoint.files.map { File(name: $0.name, size: $0.size, kind: $0.kind, path: $0.path) }
      .sorted { $0.name < $1.name }
    if let manifestFile = checkpoint.files.first(where: {
      $0.kind == .manifest || FileSystem.lastComponent(of: $0.path) == AuditManifest.fileName
    }) {
      manifest = try AuditManifest(json: try Self.parseJSON(at: manifestFile.path), file: manifestFile.path)
      manifestPath = manifestFile.path
    }
    buildIndex()
  }

  /// The side of an audit manifest.
  init(manifest: AuditManifest, path: String) {
    self.path = path
    isManifest = true
    config = nil
    metadata = [:]
    tensors = manifest.tensors.map {
      Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, file: $0.file, info: nil, recordedDigest: $0.xxh3)
    }
    files = manifest.files.map {
      File(name: $0.name, size: $0.size, kind: Self.kind(ofFileNamed: $0.name), path: nil, recordedSHA256: $0.sha256)
    }
    self.manifest = manifest
    manifestPath = path
    buildIndex()
  }

  private mutating func buildIndex() {
    tensorIndex = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// Opens `path`: an audit manifest (a `.json` file with `manifest_version`), or any
  /// checkpoint ``CheckpointReader`` accepts.
  static func open(_ path: String) throws(CheckpointError) -> DiffSide {
    if path.hasSuffix(".json") && !path.hasSuffix(".index.json") && FileSystem.isRegularFile(path) {
      let json = try parseJSON(at: path)
      if json["manifest_version"] != nil {
        return DiffSide(manifest: try AuditManifest(json: json, file: path), path: path)
      }
    }
    return try DiffSide(checkpoint: try CheckpointReader.open(path))
  }

  static func parseJSON(at path: String) throws(CheckpointError) -> JSONValue {
    let file = try MappedFile(path: path)
    do {
      return try StrictJSONParser.parse(file.bytes)
    } catch {
      throw CheckpointError(.malformed, file: path, offset: UInt64(error.offset), reason: error.reason)
    }
  }


  /// The kind of a file known only by name (manifest entries).
  static func kind(ofFileNamed name: String) -> CheckpointFileKind {
    if name.hasSuffix(".index.json") { return .index }
    if name.hasSuffix(".safetensors") { return .safetensors }
    if name.hasSuffix(".bin") || name.hasSuffix(".pt") || name.hasSuffix(".pth") { return .torchZip }
    switch FileSystem.lastComponent(of: name) {
    case "config.json": return .config
    case "generation_config.json": return .generationConfig
    case AuditManifest.fileName: return .manifest
    default: return .other
    }
  }
}
