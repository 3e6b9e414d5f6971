import Foundation
import HubEmulatorSupport
import Testing

/// `speculators` against the Hub emulator: header-only commands read headers by range, convert
/// reads one tensor, slow servers and mistyped paths fail cleanly.
@Suite("Hub ids on the command line")
struct HubSourceCommandTests {
  static func fixtureRepo(_ name: String) throws -> [String: [UInt8]] {
    let directory = TestPaths.fixtures.appendingPathComponent(name).path
    var files: [String: [UInt8]] = [:]
    for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
      files[file] = try #require(contents(directory + "/" + file))
    }
    return files
  }

  static func tensors(_ json: String) throws -> [[String: String]] {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let list = try #require(object["tensors"] as? [[String: Any]])
    return list.map { ["name": "\($0["name"] ?? "")", "dtype": "\($0["dtype"] ?? "")", "shape": "\($0["shape"] ?? "")"] }
  }

  @Test("inspect of a Hub id reads only headers, lists what the local copy lists, and a second run makes no request")
  func inspectHeadersOnly() throws {
    let verifier = try Self.fixtureRepo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier])
    let remote = try runSpeculators(["inspect", "test/tiny-llama", "--json"], environment: hub.environment)
    #expect(remote.status == 0, "\(remote.stderr)")
    let local = try runSpeculators(["inspect", TestPaths.fixtures.appendingPathComponent("verifier").path, "--json"])
    #expect(try Self.tensors(remote.stdout) == Self.tensors(local.stdout))
    let weights = verifier.filter { $0.key.hasSuffix(".safetensors") }
    var needed = 0
    for bytes in weights.values {
      for index in 0..<8 { needed += Int(bytes[index]) << (8 * index) }
      needed += 8
    }
    let sent = try hub.cdnBytesSent()
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * weights.count), "sent \(sent), needed \(needed)")
    hub.clearLog()
    let again = try runSpeculators(["inspect", "test/tiny-llama", "--json"], environment: hub.environment)
    #expect(again.status == 0)
    #expect(try hub.requests().isEmpty)
  }

  @Test("convert with a Hub verifier writes the same weights as with the local verifier")
  func convertWithHubVerifier() throws {
    let hub = try HubEmulator(repos: ["test/tiny-llama": try Self.fixtureRepo("verifier")])
    let directory = try TestPaths.temporaryDirectory()
    let draft = TestPaths.fixtures.appendingPathComponent("eagle3-bin").path
    let remote = try runSpeculators(
      ["convert", draft, "--algorithm", "eagle3", "--verifier", "test/tiny-llama", "--output-path", directory.path + "/remote",
       "--algorithm-kwargs", #"{"eagle_aux_hidden_state_layer_ids": [1, 2, 3]}"#],
      environment: hub.environment)
    #expect(remote.status == 0, "\(remote.stderr)")
    let local = try runSpeculators(
      ["convert", draft, "--algorithm", "eagle3", "--verifier", TestPaths.fixtures.appendingPathComponent("verifier").path,
       "--output-path", directory.path + "/local", "--algorithm-kwargs", #"{"eagle_aux_hidden_state_layer_ids": [1, 2, 3]}"#])
    #expect(local.status == 0)
    let weights = contents(directory.path + "/remote/model.safetensors")
    #expect(weights != nil && weights == contents(directory.path + "/local/model.safetensors"))
    let manifest = String(decoding: try #require(contents(directory.path + "/remote/speculators-manifest.json")), as: UTF8.self)
    #expect(manifest.contains("\"embeddings_fetched\""))
    #expect(try !hub.requests().contains { $0.path.contains("model-00002-of-00002") })
  }

  @Test("a mistyped path under an existing directory: no such file, a did-you-mean, no request")
  func mistypedPath() throws {
    let hub = try HubEmulator(repos: [:])
    let directory = try TestPaths.temporaryDirectory()
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("fx/verifier-small"), withIntermediateDirectories: true)
    let result = try runSpeculators(
      ["inspect", "fx/verifer-small"], environment: hub.environment, workingDirectory: directory)
    #expect(result.status == 2)
    #expect(result.stderr.contains("fx/verifer-small: no such file or directory (did you mean 'fx/verifier-small'?)"), "\(result.stderr)")
    #expect(try hub.requests().isEmpty)
  }

  @Test("a server trickling a byte a second is abandoned with a one-line error naming the host")
  func trickle() throws {
    let hub = try HubEmulator(
      repos: ["test/tiny-llama": try Self.fixtureRepo("verifier")],
      arguments: ["--trickle", "model-00001-of-00002.safetensors", "--trickle-interval", "1"])
    let result = try runSpeculators(
      ["inspect", "test/tiny-llama", "--low-speed-time", "2"], environment: hub.environment)
    #expect(result.status == 2)
    let host = URL(string: hub.cdn)?.host ?? "?"
    #expect(result.stderr.contains("below the low-speed limit of 1024 bytes/s for 2 s"), "\(result.stderr)")
    #expect(result.stderr.contains(host))
    #expect(result.stderr.contains("model-00001-of-00002.safetensors"))
  }
}
