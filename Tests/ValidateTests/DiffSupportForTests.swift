import Foundation
import Inspect
import Testing

@testable import Validate

/// A tensor to write into a test checkpoint.
struct TestTensor {
  var name: String
  var dtype: DType
  var shape: [Int]
  var bytes: [UInt8]

  static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> TestTensor {
    TestTensor(name: name, dtype: .F32, shape: shape, bytes: values.flatMap { littleEndian($0.bitPattern) })
  }

  static func f16(_ name: String, _ shape: [Int], _ values: [Float]) -> TestTensor {
    TestTensor(name: name, dtype: .F16, shape: shape, bytes: values.flatMap { littleEndian(halfBits($0)) })
  }

  static func bf16(_ name: String, _ shape: [Int], _ values: [Float]) -> TestTensor {
    TestTensor(
      name: name, dtype: .BF16, shape: shape, bytes: values.flatMap { littleEndian(UInt16($0.bitPattern >> 16)) })
  }

  static func i64(_ name: String, _ values: [Int64]) -> TestTensor {
    TestTensor(name: name, dtype: .I64, shape: [values.count], bytes: values.flatMap { littleEndian(UInt64(bitPattern: $0)) })
  }

  static func bool(_ name: String, _ values: [Bool]) -> TestTensor {
    TestTensor(name: name, dtype: .BOOL, shape: [values.count], bytes: values.map { $0 ? 1 : 0 })
  }

  /// Float → binary16 for values exactly representable in binary16 (normal numbers and zero).
  static func halfBits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(bits >> 16) & 0x8000
    if value == 0 { return sign }
    let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
    let mantissa = UInt16((bits >> 13) & 0x3FF)
    return sign | UInt16(exponent) << 10 | mantissa
  }

  static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
  }
}

/// Gives each test of a suite its own scratch directory, removed when the test ends; the
/// directories ``TestCheckpoints/directory()`` makes go inside it.
struct DiffScratchDirectory: SuiteTrait, TestTrait, TestScoping {
  @TaskLocal static var current: URL?

  var isRecursive: Bool { true }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    guard testCase != nil || !test.isSuite else {
      try await function()
      return
    }
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("diff-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    try await Self.$current.withValue(root) { try await function() }
  }
}

extension Trait where Self == DiffScratchDirectory {
  /// Removes what the test wrote under ``TestCheckpoints/directory()`` when it ends.
  static var diffScratch: Self { DiffScratchDirectory() }
}

/// Writes small safetensors checkpoints and builds ``Checkpoint`` values for them by hand (the
/// tests do not depend on the readers).
enum TestCheckpoints {
  /// A fresh directory inside the test's scratch directory (see ``DiffScratchDirectory``).
  static func directory() throws -> URL {
    let root = DiffScratchDirectory.current ?? FileManager.default.temporaryDirectory
    let url = root.appendingPathComponent("diff-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Writes `tensors` as a safetensors file at `path` (header metadata `format: pt`) and returns
  /// their descriptions.
  @discardableResult
  static func writeSafetensors(_ tensors: [TestTensor], to path: String) throws -> [TensorInfo] {
    var header: [(key: String, value: JSONValue)] = [("__metadata__", .object([("format", "pt")]))]
    var offset = 0
    for tensor in tensors {
      header.append(
        (
          tensor.name,
          .object([
            ("dtype", .string(tensor.dtype.rawValue)), ("shape", .array(tensor.shape.map { .int(Int64($0)) })),
            ("data_offsets", .array([.int(Int64(offset)), .int(Int64(offset + tensor.bytes.count))])),
          ])
        ))
      offset += tensor.bytes.count
    }
    var json = Array(JSONWriter.compact(.object(header)).utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    var data = TestTensor.littleEndian(UInt64(json.count)) + json
    var infos: [TensorInfo] = []
    for tensor in tensors {
      infos.append(
        TensorInfo(
          name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, file: path,
          layout: .contiguous(offset: data.count, length: tensor.bytes.count)))
      data += tensor.bytes
    }
    try Data(data).write(to: URL(fileURLWithPath: path))
    return infos
  }

  /// Writes a checkpoint directory: `config.json` (if given) and one safetensors file per entry
  /// of `shards` (file name → tensors), plus an index when there is more than one shard.
  static func write(
    _ shards: [(file: String, tensors: [TestTensor])], config: JSONValue?, in directory: URL
  ) throws -> Checkpoint {
    var files: [CheckpointFile] = []
    var infos: [TensorInfo] = []
    var metadata: [String: [String: String]] = [:]
    for shard in shards {
      let path = directory.appendingPathComponent(shard.file).path
      infos += try writeSafetensors(shard.tensors, to: path)
      files.append(CheckpointFile(path: path, name: shard.file, size: try size(of: path), kind: .safetensors))
      metadata[shard.file] = ["format": "pt"]
    }
    if shards.count > 1 {
      let map = JSONValue.object(
        shards.flatMap { shard in shard.tensors.map { ($0.name, JSONValue.string(shard.file)) } }
          .sorted { $0.0 < $1.0 }.map { (key: $0.0, value: $0.1) })
      let index = JSONValue.object([("metadata", .object([])), ("weight_map", map)])
      let path = directory.appendingPathComponent("model.safetensors.index.json").path
      try Data(JSONWriter.pretty(index).utf8).write(to: URL(fileURLWithPath: path))
      files.append(CheckpointFile(path: path, name: "model.safetensors.index.json", size: try size(of: path), kind: .index))
    }
    if let config {
      let path = directory.appendingPathComponent("config.json").path
      try Data(JSONWriter.pretty(config).utf8).write(to: URL(fileURLWithPath: path))
      files.append(CheckpointFile(path: path, name: "config.json", size: try size(of: path), kind: .config))
    }
    return Checkpoint(
      location: directory.path, directory: directory.path, files: files, config: config, metadata: metadata,
      tensors: infos)
  }

  /// Adds a file (for example an audit manifest) to a checkpoint built by ``write(_:config:in:)``.
  static func adding(
    _ contents: String, named name: String, kind: CheckpointFileKind, to checkpoint: Checkpoint
  ) throws -> Checkpoint {
    let path = URL(fileURLWithPath: checkpoint.directory).appendingPathComponent(name).path
    try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    var copy = checkpoint
    copy.files.append(CheckpointFile(path: path, name: name, size: try size(of: path), kind: kind))
    return copy
  }

  static func size(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.intValue ?? 0
  }

  /// XXH3-128 of a tensor's bytes, as a manifest records it.
  static func digest(_ tensor: TestTensor) -> String {
    tensor.bytes.withUnsafeBytes { XXH3Hasher.hex(of: $0) }
  }
}

/// Values `k / 64` for k in a range: exact in F16, BF16 and F32.
func exactValues(_ count: Int, offset: Int = 0) -> [Float] {
  (0..<count).map { Float((($0 + offset) % 97) - 48) / 64 }
}
