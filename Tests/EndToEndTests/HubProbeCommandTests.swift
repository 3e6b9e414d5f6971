import Foundation
import HubEmulatorSupport
import Testing

/// `probe` and `verify --probe` with Hub ids: the weights are fetched whole through the same
/// source resolution as the other commands, and the result is the local one.
@Suite("Probe with Hub sources")
struct HubProbeCommandTests {
  static let verifier = "probe/verifiers/llama"
  static let draft = "probe/drafts/llama-eagle3"

  static func arguments(draft: String, verifier: String) -> [String] {
    [
      "probe", draft, "--verifier", verifier, "--json", "--max-tokens", "8",
      "--prompt-ids", TestPaths.fixtures.appendingPathComponent("probe/prompts.jsonl").path,
    ]
  }

  static func counts(_ json: String) throws -> [String] {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    return ["draft_tokens", "accepted_tokens", "accepted_per_position", "outputs"].map { "\(object[$0] ?? "absent")" }
  }

  @Test("probe of a Hub draft against a Hub verifier counts what the local copies count")
  func probeHubSources() throws {
    let hub = try HubEmulator(repos: [
      "test/probe-verifier": try HubSourceCommandTests.fixtureRepo(Self.verifier),
      "test/probe-draft": try HubSourceCommandTests.fixtureRepo(Self.draft),
    ])
    let remote = try runSpeculators(
      Self.arguments(draft: "test/probe-draft", verifier: "test/probe-verifier"), environment: hub.environment)
    let local = try runSpeculators(
      Self.arguments(
        draft: TestPaths.fixtures.appendingPathComponent(Self.draft).path,
        verifier: TestPaths.fixtures.appendingPathComponent(Self.verifier).path))
    // Exit 0 or 1 (this fixture pair accepts little on these prompts), never an input error.
    #expect(local.status == 0 || local.status == 1, "\(local.stderr)")
    #expect(remote.status == local.status, "\(remote.stderr)")
    #expect(try Self.counts(remote.stdout) == Self.counts(local.stdout))
    #expect(try hub.requests().contains { $0.path.contains("model.safetensors") })
  }

  @Test("verify --probe with a Hub verifier fetches its weights and finds what it finds with the local one")
  func verifyProbeHubVerifier() throws {
    let hub = try HubEmulator(repos: ["test/probe-verifier": try HubSourceCommandTests.fixtureRepo(Self.verifier)])
    let draft = TestPaths.fixtures.appendingPathComponent(Self.draft).path
    let prompts = TestPaths.fixtures.appendingPathComponent("probe/prompts.jsonl").path
    func verify(_ verifier: String, environment: [String: String] = [:]) throws -> CommandResult {
      try runSpeculators(
        ["verify", draft, "--verifier", verifier, "--probe", "--max-tokens", "8", "--prompt-ids", prompts],
        environment: environment)
    }
    let remote = try verify("test/probe-verifier", environment: hub.environment)
    let local = try verify(TestPaths.fixtures.appendingPathComponent(Self.verifier).path)
    #expect(local.stdout.contains("probe.acceptance"), "\(local.stdout)")
    #expect(remote.status == local.status, "\(remote.stderr)")
    let findings = { (output: String) in output.split(separator: "\n").filter { $0.contains("probe.") } }
    #expect(findings(remote.stdout) == findings(local.stdout), "\(remote.stdout)")
  }
}
