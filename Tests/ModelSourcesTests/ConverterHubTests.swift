import Convert
import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

@Suite("Converter with Hub sources (loopback Hub emulator)")
struct ConverterHubTests {
  @Test("draft and verifier from the Hub: only the embeddings shard of the verifier is fetched and recorded")
  func hubVerifier() throws {
    let parent = FileManager.default.temporaryDirectory.path + "/convert-hub-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: parent) }
    let hub = try HubEmulator(
      repos: ["test/eagle3-draft": try HubFixtureTests.repo("eagle3-bin"), "test/tiny-llama": try HubFixtureTests.repo("verifier")])
    let output = parent + "/out"
    let options = hub.options()
    let report = try Converter.convert(
      ConversionRequest(
        model: try SourceResolver.resolve("test/eagle3-draft", need: .checkpoint, options: options),
        verifier: try SourceResolver.resolve("test/tiny-llama", need: .configOnly, options: options),
        fetch: { reference, need in
          try SourceResolver.resolve(reference, need: need, options: options)
        },
        algorithm: .eagle3, outputPath: output, algorithmKwargs: try taps()))
    let manifest = try AuditManifest(contentsOf: output + "/speculators-manifest.json")
    #expect(manifest.source.hubID == "test/eagle3-draft")
    #expect(manifest.source.revision?.count == 40)
    #expect(manifest.verifier.given == "test/tiny-llama")
    #expect(manifest.verifier.embeddingsFile == "model-00001-of-00002.safetensors")
    #expect(manifest.tensors.first { $0.name == "embed_tokens.weight" }?.source.origin == .verifier)
    #expect(report.verifier.hubID == "test/tiny-llama")
    let config = try StrictJSONParser.parse(try #require(contents(output + "/config.json")))
    #expect(config["speculators_config"]?["verifier"]?["name_or_path"] == "test/tiny-llama")
    let fetched = try hub.requests().filter { $0.method == "GET" }.map(\.path)
    // LFS bodies come from the CDN as /cdn/<sha>?name=<file>; the second verifier shard never.
    #expect(!fetched.contains { $0.contains("model-00002-of-00002.safetensors") }, "\(fetched)")
    #expect(fetched.contains { $0.contains("model-00001-of-00002.safetensors") }, "\(fetched)")
  }
}
