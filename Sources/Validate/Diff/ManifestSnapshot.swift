import Inspect

// ADAPTER: reads the fields of `speculators-manifest.json` that diff needs. The convert helper's
// `AuditManifest` (Sources/Inspect/Knowledge/AuditManifest.swift) is the owner of the format; when
// it lands, `ManifestSnapshot.init(json:path:)` should be rebuilt on top of `AuditManifest(json:)`.

/// What an audit manifest records about a conversion: tensors with digests (no values), the
/// source tensor each came from, the tensors dropped, and the output files.
struct ManifestSnapshot: Sendable {
  /// One output tensor as recorded.
  struct Tensor: Sendable {
    var name: String
    var dtype: DType
    var shape: [Int]
    var file: String
    var digest: String
    /// Where it came from: `draft`, `verifier` or `synthesized`, the source name, dtype and
    /// digest, and what a synthesised tensor is filled with.
    var sourceOrigin: String?
    var sourceName: String?
    var sourceDType: DType?
    var sourceDigest: String?
    var sourceFill: String?
  }

  /// One file as recorded.
  struct File: Sendable {
    var name: String
    var size: Int
    var sha256: String
  }

  /// The manifest's path.
  var path: String
  /// The conversion algorithm (`options.algorithm`), if recorded.
  var algorithm: String?
  /// Output tensors, sorted by name.
  var tensors: [Tensor]
  /// Source tensors left out of the output, with the reason.
  var dropped: [(name: String, reason: String)]
  /// Output files (the manifest itself excluded), sorted by name.
  var files: [File]

  /// Whether `json` looks like an audit manifest (has `manifest_version`).
  static func isManifest(_ json: JSONValue) -> Bool {
    json["manifest_version"] != nil && json["tensors"] != nil
  }

  /// Reads the manifest at `path`.
  static func load(path: String) throws(CheckpointError) -> ManifestSnapshot {
    let file = try MappedFile(path: path)
    let json: JSONValue
    do {
      json = try StrictJSONParser.parse(file.bytes)
    } catch {
      throw CheckpointError(.malformed, file: path, offset: UInt64(error.offset), reason: error.reason)
    }
    return try ManifestSnapshot(json: json, path: path)
  }

  /// Interprets a parsed manifest.
  init(json: JSONValue, path: String) throws(CheckpointError) {
    func fail(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, file: path, reason: "manifest: \(reason)")
    }
    guard let version = json["manifest_version"]?.intValue else { throw fail("manifest_version is missing") }
    guard version == 1 else {
      throw CheckpointError(.unsupported, file: path, reason: "manifest_version \(version) is not supported")
    }
    self.path = path
    algorithm = json["options"]?["algorithm"]?.stringValue
    guard let tensorList = json["tensors"]?.arrayValue else { throw fail("tensors is not an array") }
    var tensors: [Tensor] = []
    for (index, entry) in tensorList.enumerated() {
      let at = "tensors[\(index)]"
      guard let name = entry["name"]?.stringValue else { throw fail("\(at).name is missing") }
      guard let dtypeName = entry["dtype"]?.stringValue, let dtype = DType(rawValue: dtypeName) else {
        throw fail("\(at).dtype is not a safetensors dtype")
      }
      guard let dims = entry["shape"]?.arrayValue else { throw fail("\(at).shape is not an array") }
      var shape: [Int] = []
      for dim in dims {
        guard let value = dim.intValue, value >= 0 else { throw fail("\(at).shape holds a non-integer") }
        shape.append(value)
      }
      guard checkedByteCount(shape: shape, dtype: dtype) != nil else { throw fail("\(at).shape overflows") }
      guard let digest = entry["xxh3_128"]?.stringValue else { throw fail("\(at).xxh3_128 is missing") }
      let source = entry["source"]
      tensors.append(
        Tensor(
          name: name, dtype: dtype, shape: shape, file: entry["file"]?.stringValue ?? "", digest: digest,
          sourceOrigin: source?["origin"]?.stringValue, sourceName: source?["name"]?.stringValue,
          sourceDType: source?["dtype"]?.stringValue.flatMap(DType.init(rawValue:)),
          sourceDigest: source?["xxh3_128"]?.stringValue, sourceFill: source?["fill"]?.stringValue))
    }
    guard Set(tensors.map(\.name)).count == tensors.count else { throw fail("a tensor name appears twice") }
    self.tensors = tensors.sorted { $0.name < $1.name }
    dropped = (json["dropped"]?.arrayValue ?? []).compactMap { entry in
      entry["name"]?.stringValue.map { ($0, entry["reason"]?.stringValue ?? "") }
    }
    var files: [File] = []
    for (index, entry) in (json["files"]?.arrayValue ?? []).enumerated() {
      guard let name = entry["name"]?.stringValue, let size = entry["size"]?.intValue,
        let sha256 = entry["sha256"]?.stringValue
      else { throw fail("files[\(index)] needs name, size and sha256") }
      files.append(File(name: name, size: size, sha256: sha256))
    }
    self.files = files.sorted { $0.name < $1.name }
  }
}
