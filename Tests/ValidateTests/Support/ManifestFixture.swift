import Foundation
import Inspect

/// Writes a `speculators-manifest.json` (the brief's format) for a written checkpoint, with
/// digests computed straight from the bytes on disk.
enum ManifestFixture {
  static func write(for written: WrittenCheckpoint, extraFiles: [(String, Int, String)] = []) throws -> URL {
    let directory = written.directory
    var files: [JSONValue] = []
    for file in written.checkpoint.files.sorted(by: { $0.name < $1.name }) {
      let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
      let sha = try data.withUnsafeBytes { try SHA256Hasher.hex(of: $0) }
      files.append(["name": .string(file.name), "size": .int(Int64(data.count)), "sha256": .string(sha)])
    }
    for (name, size, sha) in extraFiles {
      files.append(["name": .string(name), "size": .int(Int64(size)), "sha256": .string(sha)])
    }
    var tensors: [JSONValue] = []
    for tensor in written.checkpoint.tensors {
      let data = try Data(contentsOf: URL(fileURLWithPath: tensor.file))
      guard case .contiguous(let offset, let length) = tensor.layout else { continue }
      let digest = data.withUnsafeBytes {
        XXH3Hasher.hex(of: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + length]))
      }
      tensors.append([
        "name": .string(tensor.name), "dtype": .string(tensor.dtype.rawValue),
        "shape": .array(tensor.shape.map { .int(Int64($0)) }),
        "file": .string(URL(fileURLWithPath: tensor.file).lastPathComponent), "xxh3_128": .string(digest),
        "source": [
          "origin": "draft", "name": .string(tensor.name), "dtype": .string(tensor.dtype.rawValue),
          "xxh3_128": .string(digest),
        ],
      ])
    }
    let manifest: JSONValue = [
      "manifest_version": 1, "tool": ["name": "speculators", "version": "0.1.0"],
      "options": [
        "algorithm": "eagle3", "algorithm_kwargs": [:], "dtype": nil, "max_shard_size": 5_000_000_000,
        "validate_device": nil, "output_path": "converted",
      ],
      "source": [
        "given": "draft", "resolved_path": "/abs/draft", "hub_id": nil, "revision": nil,
        "format": "eagle3-safeailab", "files": [],
      ],
      "verifier": [
        "given": "verifier", "resolved_path": "/abs/verifier",
        "config_sha256": .string(String(repeating: "0", count: 64)),
        "embeddings_file": nil,
      ],
      "tensors": .array(tensors), "dropped": [], "files": .array(files),
    ]
    let url = directory.appendingPathComponent("speculators-manifest.json")
    try Data(JSONWriter.pretty(manifest).utf8).write(to: url)
    return url
  }
}
