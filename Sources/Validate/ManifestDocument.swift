import Inspect

/// The parts of `speculators-manifest.json` that `verify --manifest` compares: per-file sizes and
/// SHA-256, per-tensor dtype, shape, file and XXH3-128.
///
/// Read leniently about sections verify does not use (options, source, verifier) and strictly
/// about the ones it does. (`AuditManifest` in Inspect is the full model; this reader only
/// needs the digest sections.)
struct ManifestDocument {
  struct File {
    var name: String
    var size: Int?
    var sha256: String
  }

  struct Tensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var file: String?
    var xxh3: String
  }

  let path: String
  let files: [File]
  let tensors: [Tensor]

  /// Reads and validates the manifest at `path`.
  ///
  /// - Throws: ``CheckpointError`` naming the manifest and the offending entry.
  static func read(at path: String) throws(CheckpointError) -> ManifestDocument {
    let json = try VerifierResolution.readJSON(at: path)
    func fail(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, file: path, reason: reason)
    }
    guard json.objectMembers != nil else { throw fail("expected a JSON object") }
    if let version = json["manifest_version"], version.intValue != 1 {
      throw CheckpointError(
        .unsupported, file: path,
        reason: "manifest_version \(JSONWriter.compact(version)) is not supported (expected 1)")
    }
    guard let fileList = json["files"]?.arrayValue else { throw fail("files: expected an array") }
    guard let tensorList = json["tensors"]?.arrayValue else { throw fail("tensors: expected an array") }
    var files: [File] = []
    for (index, entry) in fileList.enumerated() {
      let at = "files[\(index)]"
      guard let name = entry["name"]?.stringValue, isSafeRelativePath(name) else {
        throw fail("\(at).name: expected a relative path inside the checkpoint directory")
      }
      guard let sha = entry["sha256"]?.stringValue, isHex(sha, count: 64) else {
        throw fail("\(at).sha256: expected 64 lowercase hex digits")
      }
      var size: Int?
      if let value = entry["size"], !value.isNull {
        guard let int = value.intValue, int >= 0 else {
          throw fail("\(at).size: expected a non-negative integer")
        }
        size = int
      }
      files.append(File(name: name, size: size, sha256: sha))
    }
    var tensors: [Tensor] = []
    for (index, entry) in tensorList.enumerated() {
      let at = "tensors[\(index)]"
      guard let name = entry["name"]?.stringValue else { throw fail("\(at).name: expected a string") }
      guard let dtype = entry["dtype"]?.stringValue else { throw fail("\(at).dtype: expected a string") }
      guard let dims = entry["shape"]?.arrayValue else { throw fail("\(at).shape: expected an array") }
      let shape = dims.compactMap(\.intValue)
      guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }) else {
        throw fail("\(at).shape: expected non-negative integers")
      }
      guard let xxh3 = entry["xxh3_128"]?.stringValue, isHex(xxh3, count: 32) else {
        throw fail("\(at).xxh3_128: expected 32 lowercase hex digits")
      }
      tensors.append(
        Tensor(name: name, dtype: dtype, shape: shape, file: entry["file"]?.stringValue, xxh3: xxh3))
    }
    return ManifestDocument(path: path, files: files, tensors: tensors)
  }

  private static func isHex(_ text: String, count: Int) -> Bool {
    text.utf8.count == count
      && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }

  /// A manifest file name must stay inside the checkpoint directory.
  static func isSafeRelativePath(_ name: String) -> Bool {
    !name.isEmpty && !name.hasPrefix("/") && !name.split(separator: "/").contains("..")
      && !name.contains("\0")
  }
}
