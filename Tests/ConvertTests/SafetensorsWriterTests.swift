import Foundation
import Inspect
import Testing

@testable import Convert

@Suite("SafetensorsWriter")
struct SafetensorsWriterTests {
  /// Source tensors in a scratch file, opened as TensorInfos.
  func sources(_ tensors: [TestTensor], in directory: String) throws -> [String: TensorInfo] {
    try TestCheckpoints.writeSafetensors(tensors, to: directory + "/source.safetensors")
    let infos = try TestCheckpoints.readSafetensors(directory + "/source.safetensors").tensors
    return Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
  }

  @Test("a file written by Python safetensors 0.8.0 is reproduced byte for byte")
  func workedExample() throws {
    let directory = try makeTemporaryDirectory()
    let input = try sources(
      [.floats("w", [1.0, -2.0], dtype: .BF16), .int64("b", [3])], in: directory)
    let output = directory + "/out"
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let entries = try ["w", "b"].map { name in
      let info = try #require(input[name])
      return SafetensorsWriter.Entry(name: name, dtype: info.dtype, shape: info.shape, content: .tensor(info))
    }
    let result = try SafetensorsWriter().write(entries, into: output, reader: TensorReader())
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output + "/model.safetensors")))
    #expect(bytes.count == 164)
    #expect(Array(bytes[0..<8]) == [0x90, 0, 0, 0, 0, 0, 0, 0])
    let header = String(decoding: bytes[8..<152], as: UTF8.self)
    #expect(
      header == #"{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"#
        + #""w":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}    "#)
    #expect(Array(bytes[152...]) == [3, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0x00, 0xC0])
    #expect(result.files.map(\.name) == ["model.safetensors"])
    #expect(result.files[0].sha256.hasPrefix("1f7128c1") && result.files[0].sha256.hasSuffix("638502"))
    #expect(result.tensors.map(\.name) == ["b", "w"])
  }

  @Test("tensors are ordered by dtype rank descending, then name")
  func ordering() {
    func entry(_ name: String, _ dtype: DType) -> SafetensorsWriter.Entry {
      .init(name: name, dtype: dtype, shape: [1], content: .fill(.zeros))
    }
    let sorted = [
      entry("t2d", .BOOL), entry("b", .F16), entry("a", .F16), entry("d2t", .I64), entry("z", .F32),
    ]
    .sorted(by: SafetensorsWriter.precedes).map(\.name)
    #expect(sorted == ["d2t", "z", "a", "b", "t2d"])
  }

  @Test("above the limit tensors are split greedily into shards with an index")
  func sharding() throws {
    let directory = try makeTemporaryDirectory()
    let tensors: [TestTensor] = (0..<5).map { .random("t\($0)", [16], dtype: .F32) }  // 64 bytes each
    let input = try sources(tensors, in: directory)
    let output = directory + "/out"
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let entries = input.values.map {
      SafetensorsWriter.Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape, content: .tensor($0))
    }
    let result = try SafetensorsWriter(maxShardSize: 150).write(entries, into: output, reader: TensorReader())
    #expect(
      result.files.map(\.name) == [
        "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
        "model-00003-of-00003.safetensors",
        "model.safetensors.index.json",
      ])
    let index = try StrictJSONParser.parse(
      [UInt8](Data(contentsOf: URL(fileURLWithPath: output + "/model.safetensors.index.json"))))
    #expect(index["metadata"]?["total_size"]?.intValue == 320)
    #expect(index["weight_map"]?["t0"]?.stringValue == "model-00001-of-00003.safetensors")
    #expect(index["weight_map"]?["t2"]?.stringValue == "model-00002-of-00003.safetensors")
    #expect(index["weight_map"]?["t4"]?.stringValue == "model-00003-of-00003.safetensors")
    let originals = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.bytes) })
    var seen = 0
    for file in result.files where file.name.hasSuffix(".safetensors") {
      let (written, metadata) = try TestCheckpoints.readSafetensors(output + "/" + file.name)
      #expect(metadata == ["format": "pt"])
      for tensor in written {
        #expect(try TestCheckpoints.bytes(of: tensor) == originals[tensor.name])
        seen += 1
      }
    }
    #expect(seen == 5)
  }

  @Test("small chunks, casts and digests: F16 source cast to F32 and back")
  func castingStreams() throws {
    let directory = try makeTemporaryDirectory()
    let tensor = TestTensor.random("w", [33, 7], dtype: .F16)
    let input = try #require(try sources([tensor], in: directory)["w"])
    let output = directory + "/out"
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let result = try SafetensorsWriter(chunkSize: 10).write(
      [.init(name: "w", dtype: .F32, shape: [33, 7], content: .tensor(input))], into: output,
      reader: TensorReader())
    let written = try #require(
      try TestCheckpoints.readSafetensors(output + "/model.safetensors").tensors.first)
    #expect(written.dtype == .F32)
    let wide = try TestCheckpoints.bytes(of: written)
    #expect(result.tensors[0].xxh3 == wide.withUnsafeBytes { XXH3Hasher.hex(of: $0) })
    #expect(result.tensors[0].sourceXXH3 == tensor.bytes.withUnsafeBytes { XXH3Hasher.hex(of: $0) })
    // Back to F16 gives the original bytes (widening is exact).
    let roundTrip = directory + "/back"
    try FileManager.default.createDirectory(atPath: roundTrip, withIntermediateDirectories: true)
    _ = try SafetensorsWriter(chunkSize: 12).write(
      [.init(name: "w", dtype: .F16, shape: [33, 7], content: .tensor(written))], into: roundTrip,
      reader: TensorReader())
    let back = try #require(
      try TestCheckpoints.readSafetensors(roundTrip + "/model.safetensors").tensors.first)
    #expect(try TestCheckpoints.bytes(of: back) == tensor.bytes)
  }

  @Test("a narrowing cast that overflows is an error naming the tensor and element")
  func overflowIsAnError() throws {
    let directory = try makeTemporaryDirectory()
    let input = try #require(try sources([.floats("big", [1, 1e5, 2])], in: directory)["big"])
    let output = directory + "/out"
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let error = #expect(throws: ConversionError.self) {
      try SafetensorsWriter().write(
        [.init(name: "big", dtype: .F16, shape: [3], content: .tensor(input))], into: output,
        reader: TensorReader())
    }
    #expect(error?.tensor == "big")
    #expect(error?.reason.contains("element 1 (100000.0) overflows float16") == true)
  }

  @Test("fills write ones and zeros in the entry's dtype")
  func fills() throws {
    let output = try makeTemporaryDirectory()
    _ = try SafetensorsWriter().write(
      [
        .init(name: "ones", dtype: .BF16, shape: [3], content: .fill(.ones)),
        .init(name: "zeros", dtype: .F16, shape: [2], content: .fill(.zeros)),
      ], into: output, reader: TensorReader())
    let tensors = try TestCheckpoints.readSafetensors(output + "/model.safetensors").tensors
    let ones = try #require(tensors.first { $0.name == "ones" })
    let zeros = try #require(tensors.first { $0.name == "zeros" })
    #expect(try TestCheckpoints.bytes(of: ones) == [0x80, 0x3F, 0x80, 0x3F, 0x80, 0x3F])
    #expect(try TestCheckpoints.bytes(of: zeros) == [0, 0, 0, 0])
  }
}
