import Foundation
import HubEmulatorSupport
import Testing

/// `speculators hash` of Hub ids against the emulator: tensor digests need every tensor byte,
/// which is all of a safetensors file but its header, so the weights are downloaded whole (and
/// checked against the LFS SHA-256); the output equals the local hash.
@Suite("hash of Hub ids")
struct HubHashCommandTests {
  @Test("hash --tensors-only of a Hub id: the local digests, bytes sent = the weights' bytes (headers and tensors)")
  func tensorsOnly() throws {
    let verifier = try HubSourceCommandTests.fixtureRepo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier])
    let remote = try runSpeculators(["hash", "test/tiny-llama", "--tensors-only"], environment: hub.environment)
    #expect(remote.status == 0, "\(remote.stderr)")
    let local = try runSpeculators(["hash", TestPaths.fixtures.appendingPathComponent("verifier").path, "--tensors-only"])
    #expect(local.status == 0)
    #expect(!remote.stdout.isEmpty && remote.stdout == local.stdout)
    // Needed: each file's header and all its tensors, i.e. the whole file.
    let weights = verifier.filter { $0.key.hasSuffix(".safetensors") }
    let needed = weights.values.map(\.count).reduce(0, +)
    let sent = try hub.cdnBytesSent()
    #expect(sent >= needed)
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * weights.count), "sent \(sent), needed \(needed)")
    print("ranged-read figures: hash --tensors-only needed=\(needed) sent=\(sent)")
    // A second run reads the Hugging Face cache: no request.
    hub.clearLog()
    let again = try runSpeculators(["hash", "test/tiny-llama", "--tensors-only"], environment: hub.environment)
    #expect(again.stdout == local.stdout)
    #expect(try hub.requests().isEmpty)
  }

  @Test("hash of a header-only stand-in directory is refused, naming the file; nothing is printed")
  func standInRefused() throws {
    let hub = try HubEmulator(repos: ["test/tiny-llama": try HubSourceCommandTests.fixtureRepo("verifier")])
    let inspect = try runSpeculators(["inspect", "test/tiny-llama"], environment: hub.environment)
    #expect(inspect.status == 0, "\(inspect.stderr)")
    let standIns = hub.speculatorsCacheDirectory + "/ranges/models--test--tiny-llama/standins"
    let commit = try #require(try FileManager.default.contentsOfDirectory(atPath: standIns).first)
    let result = try runSpeculators(["hash", standIns + "/" + commit, "--tensors-only"], environment: hub.environment)
    #expect(result.status == 2)
    #expect(result.stderr.contains("were not fetched"), "\(result.stderr)")
    #expect(result.stderr.contains("model-0000"))
    #expect(result.stdout.isEmpty)
  }
}
