import Foundation
import Testing

@testable import Inspect

/// The real fixtures (written by torch / safetensors / transformers) against their ground truth
/// in Fixtures/expected: every file, every tensor's dtype, shape, file and byte count, and the
/// SHA-256 of the bytes the reader locates.
@Suite struct CheckpointReaderFixturesTests {
  static let fixtures: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures")
  }()

  /// Case directories (relative to Fixtures/) with an expected/<case>.json.
  static let cases: [String] = {
    let expected = fixtures.appendingPathComponent("expected")
    var names: [String] = []
    for (prefix, directory) in [("", expected), ("reference/", expected.appendingPathComponent("reference"))] {
      let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
      for file in files where file.hasSuffix(".json") && !file.hasPrefix("_") {
        names.append(prefix + String(file.dropLast(5)))
      }
    }
    return names.sorted()
  }()

  static func expected(_ name: String) throws -> JSONValue {
    let path = fixtures.appendingPathComponent("expected/\(name).json").path
    let data = try #require(FileManager.default.contents(atPath: path))
    return try StrictJSONParser.parse(Array(data))
  }

  /// Whether the PyTorch zip reader is in this build (skips these tests in a build without it).
  static let torchReaderAvailable: Bool = {
    let path = fixtures.appendingPathComponent("eagle1-bin/pytorch_model.bin").path
    guard let file = try? MappedFile(path: path) else { return false }
    do throws(CheckpointError) {
      _ = try TorchZipReader.readTensors(from: file)
      return true
    } catch {
      return !error.reason.contains("not built yet")
    }
  }()

  static func usesTorchZip(_ name: String) -> Bool {
    let directory = fixtures.appendingPathComponent(name).path
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return files.contains { file in
      guard let mapped = try? MappedFile(path: directory + "/" + file) else { return false }
      return FileSniffer.sniff(mapped) == .torchZip
    }
  }

  @Test func everyCaseIsCovered() {
    #expect(Self.cases.count >= 20)
    #expect(Self.safetensorsCases.count >= 15)
    #expect(Self.torchZipCases.contains("pickle-named-safetensors"))
    #expect(Self.cases.contains("verifier"))
    #expect(Self.cases.contains("reference/eagle3-bin"))
  }

  static let safetensorsCases = cases.filter { !usesTorchZip($0) }
  static let torchZipCases = cases.filter(usesTorchZip)

  @Test(arguments: safetensorsCases)
  func readsTheSafetensorsFixtureExactly(name: String) throws {
    try checkFixture(name)
  }

  @Test(
    .enabled(if: torchReaderAvailable, "TorchZipReader is not in this build"),
    arguments: torchZipCases)
  func readsTheTorchZipFixtureExactly(name: String) throws {
    try checkFixture(name)
  }

  private func checkFixture(_ name: String) throws {
    let expected = try Self.expected(name)
    let directory = Self.fixtures.appendingPathComponent(name).path
    let checkpoint = try CheckpointReader.open(directory)

    let expectedFiles = try #require(expected["files"]?.arrayValue)
    #expect(checkpoint.files.map(\.name) == expectedFiles.compactMap { $0["name"]?.stringValue })
    #expect(checkpoint.files.map(\.size) == expectedFiles.compactMap { $0["size"]?.intValue })
    #expect(checkpoint.config != nil)
    #expect(checkpoint.files.first { $0.name == "config.json" }?.kind == .config)

    let expectedTensors = try #require(expected["tensors"]?.objectMembers)
    #expect(checkpoint.tensors.count == expected["tensor_count"]?.intValue)
    #expect(checkpoint.tensors.map(\.name) == expectedTensors.map(\.key).sorted())
    let reader = TensorReader()
    for (tensorName, truth) in expectedTensors {
      let tensor = try #require(checkpoint.tensor(named: tensorName))
      #expect(tensor.dtype.rawValue == truth["dtype"]?.stringValue, "\(tensorName)")
      #expect(tensor.shape == truth["shape"]?.arrayValue?.compactMap(\.intValue), "\(tensorName)")
      #expect(tensor.byteCount == truth["byte_count"]?.intValue, "\(tensorName)")
      #expect(tensor.file == directory + "/" + (truth["file"]?.stringValue ?? "?"), "\(tensorName)")
      let bytes = try reader.bytes(of: tensor)
      let digest = try bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) }
      #expect(digest == truth["sha256"]?.stringValue, "\(tensorName)")
    }
  }

  @Test func safetensorsFilesCarryTheirMetadata() throws {
    let checkpoint = try CheckpointReader.open(Self.fixtures.appendingPathComponent("verifier").path)
    #expect(checkpoint.metadata == [
      "model-00001-of-00002.safetensors": ["format": "pt"], "model-00002-of-00002.safetensors": ["format": "pt"],
    ])
    #expect(checkpoint.files.map(\.kind) == [.config, .generationConfig, .safetensors, .safetensors, .index])
    #expect(ModelConfig(try #require(checkpoint.config)).numHiddenLayers == 4)
  }

  @Test func aTorchZipNamedSafetensorsIsSniffedAsAZip() throws {
    let file = try MappedFile(path: Self.fixtures.appendingPathComponent("pickle-named-safetensors/model.safetensors").path)
    #expect(FileSniffer.sniff(file) == .torchZip)
  }

  @Test func singleFileAndIndexPathsGiveTheSameTensors() throws {
    let verifier = Self.fixtures.appendingPathComponent("verifier").path
    let byDirectory = try CheckpointReader.open(verifier)
    let byIndex = try CheckpointReader.open(verifier + "/model.safetensors.index.json")
    #expect(byIndex.tensors == byDirectory.tensors)
    let shard = try CheckpointReader.open(verifier + "/model-00002-of-00002.safetensors")
    #expect(shard.files.map(\.name) == ["config.json", "generation_config.json", "model-00002-of-00002.safetensors"])
    #expect(Set(shard.tensors.map(\.name)).isSubset(of: Set(byDirectory.tensors.map(\.name))))
    #expect(shard.tensor(named: "lm_head.weight") == byDirectory.tensor(named: "lm_head.weight"))
  }
}
