import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

/// The committed fixtures served as Hub repositories: real torch/safetensors files and a real index.
@Suite("Hub sources with the fixture checkpoints")
struct HubFixtureTests {
  static let fixtures: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures")
  }()

  /// Every file of fixture `name`, by relative name.
  static func repo(_ name: String) throws -> [String: [UInt8]] {
    let directory = fixtures.appendingPathComponent(name)
    var files: [String: [UInt8]] = [:]
    for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
      files[file] = try #require(contents(directory.path + "/" + file))
    }
    return files
  }

  @Test("the verifier's embeddings come from the shard its real index names, and nothing else")
  func verifierEmbeddings() throws {
    let verifier = try Self.repo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier])
    let source = try SourceResolver.resolve("test/tiny-llama", need: .embeddings.whole, options: hub.options())
    #expect(source.weightPaths.map { ($0 as NSString).lastPathComponent } == ["model-00001-of-00002.safetensors"])
    #expect(contents(source.weightPaths[0]) == verifier["model-00001-of-00002.safetensors"])
    #expect(contents(source.path + "/config.json") == verifier["config.json"])
    let snapshot = Set(try FileManager.default.contentsOfDirectory(atPath: source.path))
    #expect(snapshot == ["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors"])
  }

  @Test("a draft repository with pytorch_model.bin resolves to config.json and the .bin")
  func draftBin() throws {
    let draft = try Self.repo("eagle3-bin")
    let hub = try HubEmulator(repos: ["test/eagle3-draft": draft])
    let source = try SourceResolver.resolve("test/eagle3-draft@main", need: .checkpoint, options: hub.options())
    #expect(Set(source.files.map(\.name)) == ["config.json", "pytorch_model.bin"])
    #expect(contents(source.path + "/pytorch_model.bin") == draft["pytorch_model.bin"])
    let bin = try #require(source.files.first { $0.name == "pytorch_model.bin" })
    #expect(try bin.sha256 == sha256Hex(#require(draft["pytorch_model.bin"])))
  }
}
