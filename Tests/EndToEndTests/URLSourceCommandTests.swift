import Foundation
import HubEmulatorSupport
import Testing

/// `speculators` with URL sources against the emulator's static server: header-only commands and
/// convert's verifier embedding read by HTTP Range, as for Hub ids.
@Suite("URLs on the command line")
struct URLSourceCommandTests {
  /// The verifier fixture under `/files/verifier/` (config.json, the index, two shards).
  static func staticVerifier() throws -> [String: [UInt8]] {
    staticFiles(try HubSourceCommandTests.fixtureRepo("verifier"), under: "verifier/", excluding: ["generation_config.json"])
  }

  static func headerBytes(_ files: [String: [UInt8]]) -> Int {
    files.filter { $0.key.hasSuffix(".safetensors") }.map { safetensorsHeaderBytes($0.value) }.reduce(0, +)
  }

  @Test("inspect of a directory URL: the local tensors, headers plus config and index sent, nothing more")
  func inspectURL() throws {
    let files = try Self.staticVerifier()
    let hub = try HubEmulator(repos: [:], staticFiles: files)
    let remote = try runSpeculators(["inspect", hub.cdn + "/files/verifier/", "--json"], environment: hub.environment)
    #expect(remote.status == 0, "\(remote.stderr)")
    let local = try runSpeculators(["inspect", TestPaths.fixtures.appendingPathComponent("verifier").path, "--json"])
    #expect(try HubSourceCommandTests.tensors(remote.stdout) == HubSourceCommandTests.tensors(local.stdout))
    let needed = Self.headerBytes(files) + files.filter { $0.key.hasSuffix(".json") }.map(\.value.count).reduce(0, +)
    let sent = try hub.cdnBytesSent()
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * 4), "sent \(sent), needed \(needed)")
  }

  @Test("convert with a URL verifier: the embedding's range only; the weights of the local conversion")
  func convertWithURLVerifier() throws {
    let files = try Self.staticVerifier()
    let hub = try HubEmulator(repos: [:], staticFiles: files)
    let directory = try TestPaths.temporaryDirectory()
    let draft = TestPaths.fixtures.appendingPathComponent("eagle3-bin").path
    let taps = #"{"eagle_aux_hidden_state_layer_ids": [1, 2, 3]}"#
    let remote = try runSpeculators(
      ["convert", draft, "--algorithm", "eagle3", "--verifier", hub.cdn + "/files/verifier/",
       "--output-path", directory.path + "/remote", "--algorithm-kwargs", taps],
      environment: hub.environment)
    #expect(remote.status == 0, "\(remote.stderr)")
    let local = try runSpeculators(
      ["convert", draft, "--algorithm", "eagle3", "--verifier", TestPaths.fixtures.appendingPathComponent("verifier").path,
       "--output-path", directory.path + "/local", "--algorithm-kwargs", taps])
    #expect(local.status == 0)
    let weights = contents(directory.path + "/remote/model.safetensors")
    #expect(weights != nil && weights == contents(directory.path + "/local/model.safetensors"))
    let manifest = String(decoding: try #require(contents(directory.path + "/remote/speculators-manifest.json")), as: UTF8.self)
    #expect(manifest.contains("\"embeddings_fetched\""))
    #expect(try !hub.requests().contains { $0.path.hasSuffix("model-00002-of-00002.safetensors") })
    let shard = try #require(files["verifier/model-00001-of-00002.safetensors"])
    #expect(try hub.cdnBytesSent() < shard.count)
  }
}
