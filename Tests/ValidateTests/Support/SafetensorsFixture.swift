import Foundation
import Inspect

/// Values of one tensor before encoding.
enum TensorValues: Sendable {
  case floats([Float])
  case ints([Int64])
  case bools([Bool])

  var count: Int {
    switch self {
    case .floats(let v): return v.count
    case .ints(let v): return v.count
    case .bools(let v): return v.count
    }
  }
}

/// A tensor of a fixture: name, dtype, shape and values (encoded at write time in the dtype).
struct TensorSpec: Sendable {
  var name: String
  var dtype: DType
  var shape: [Int]
  var values: TensorValues

  /// Little-endian bytes of the values in `dtype`.
  func encoded() -> [UInt8] {
    var out: [UInt8] = []
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
    let floats: [Float]
    switch values {
    case .floats(let v): floats = v
    case .ints(let v): floats = v.map(Float.init)
    case .bools(let v): floats = v.map { $0 ? 1 : 0 }
    }
    switch dtype {
    case .F32: floats.forEach { append($0.bitPattern) }
    case .BF16: floats.forEach { append(UInt16($0.bitPattern >> 16)) }
    case .F16: floats.forEach { append(Float16($0).bitPattern) }
    case .I64:
      if case .ints(let v) = values { v.forEach { append($0) } } else { floats.forEach { append(Int64($0)) } }
    case .I32:
      if case .ints(let v) = values {
        v.forEach { append(Int32(truncatingIfNeeded: $0)) }
      } else {
        floats.forEach { append(Int32($0)) }
      }
    case .BOOL:
      if case .bools(let v) = values {
        v.forEach { out.append($0 ? 1 : 0) }
      } else {
        floats.forEach { out.append($0 != 0 ? 1 : 0) }
      }
    default:
      fatalError("test fixture: dtype \(dtype) not supported by the writer")
    }
    return out
  }
}

/// A checkpoint written to a temporary directory: config.json plus one or more safetensors
/// files, and the `Checkpoint` value a reader would produce for it.
struct WrittenCheckpoint {
  var directory: URL
  var checkpoint: Checkpoint
}

enum SafetensorsFixture {
  /// Writes `tensors` as a safetensors file; returns the TensorInfos with absolute offsets.
  static func write(_ tensors: [TensorSpec], to url: URL) throws -> [TensorInfo] {
    var header: [(String, JSONValue)] = [("__metadata__", ["format": "pt"])]
    var data: [UInt8] = []
    var ranges: [(TensorSpec, Int, Int)] = []
    for tensor in tensors {
      let bytes = tensor.encoded()
      let begin = data.count
      data += bytes
      ranges.append((tensor, begin, data.count))
      header.append(
        (
          tensor.name,
          [
            "dtype": .string(tensor.dtype.rawValue), "shape": .array(tensor.shape.map { .int(Int64($0)) }),
            "data_offsets": [.int(Int64(begin)), .int(Int64(data.count))],
          ]
        ))
    }
    var headerBytes = Array(JSONWriter.compact(.object(header.map { (key: $0.0, value: $0.1) })).utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var file: [UInt8] = []
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
    file += headerBytes
    let base = file.count
    file += data
    try Data(file).write(to: url)
    return ranges.map { spec, begin, end in
      TensorInfo(
        name: spec.name, dtype: spec.dtype, shape: spec.shape, file: url.path,
        layout: .contiguous(offset: base + begin, length: end - begin))
    }
  }

  /// Writes config.json (when given) and the tensors (split over `shards` files with an index
  /// when `shards > 1`) into `directory`, and returns the matching `Checkpoint`.
  static func writeCheckpoint(
    config: JSONValue?, tensors: [TensorSpec], into directory: URL, shards: Int = 1,
    index: JSONValue? = nil, extraFiles: [String: String] = [:]
  ) throws -> WrittenCheckpoint {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var files: [CheckpointFile] = []
    if let config {
      let url = directory.appendingPathComponent("config.json")
      try Data(JSONWriter.pretty(config).utf8).write(to: url)
      files.append(CheckpointFile(path: url.path, name: "config.json", size: size(url), kind: .config))
    }
    var infos: [TensorInfo] = []
    if shards <= 1 {
      let url = directory.appendingPathComponent("model.safetensors")
      infos = try write(tensors, to: url)
      files.append(
        CheckpointFile(path: url.path, name: "model.safetensors", size: size(url), kind: .safetensors))
    } else {
      var weightMap: [(String, JSONValue)] = []
      let perShard = (tensors.count + shards - 1) / shards
      for shard in 0..<shards {
        let name = String(format: "model-%05d-of-%05d.safetensors", shard + 1, shards)
        let part = Array(tensors.dropFirst(shard * perShard).prefix(perShard))
        let url = directory.appendingPathComponent(name)
        infos += try write(part, to: url)
        files.append(CheckpointFile(path: url.path, name: name, size: size(url), kind: .safetensors))
        weightMap += part.map { ($0.name, .string(name)) }
      }
      let total = infos.reduce(0) { $0 + $1.byteCount }
      let indexJSON =
        index
        ?? [
          "metadata": ["total_size": .int(Int64(total))],
          "weight_map": .object(weightMap.map { (key: $0.0, value: $0.1) }),
        ]
      let url = directory.appendingPathComponent("model.safetensors.index.json")
      try Data(JSONWriter.pretty(indexJSON).utf8).write(to: url)
      files.append(
        CheckpointFile(path: url.path, name: "model.safetensors.index.json", size: size(url), kind: .index))
    }
    for (name, text) in extraFiles {
      let url = directory.appendingPathComponent(name)
      try Data(text.utf8).write(to: url)
      files.append(CheckpointFile(path: url.path, name: name, size: size(url), kind: .other))
    }
    let checkpoint = Checkpoint(
      location: directory.path, directory: directory.path, files: files, config: config, tensors: infos)
    return WrittenCheckpoint(directory: directory, checkpoint: checkpoint)
  }

  static func size(_ url: URL) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size]) as? Int) ?? 0
  }

  /// A fresh temporary directory.
  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "verify-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
