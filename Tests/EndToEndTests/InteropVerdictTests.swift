import Foundation
import Testing

/// verify's serving verdicts on the interop fixtures agree with what vLLM 0.32 did with them
/// (docs/vllm.md): original EAGLE-1 serves, HASS with layernorms is refused, a `bias: true`
/// config makes vLLM build attention biases the draft lacks, speculators eagle is refused, and
/// convert prints the serve commands.
@Suite struct InteropVerdictTests {
  static func fixture(_ name: String) -> String {
    TestPaths.fixtures.appendingPathComponent("interop/\(name)").path
  }

  @Test(arguments: [("eagle1", 0), ("hass-layernorms", 1), ("hass-bias", 1)])
  func originalEagleDraftsGetVLLMsVerdict(name: String, status: Int32) throws {
    let result = try runSpeculators(["verify", Self.fixture(name), "--verifier", Self.fixture("verifier")])
    #expect(result.status == status, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("config.vllm-support") == (status == 1))
    if name == "hass-layernorms" { #expect(result.stdout.contains("embed_layernorm")) }
    if name == "hass-bias" { #expect(result.stdout.contains("attention biases")) }
  }

  @Test func convertPrintsServeCommandsAndWarnsForEagle() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let eagle3 = root.appendingPathComponent("e3").path
    let good = try runSpeculators([
      "convert", Self.fixture("eagle3-specforge"), "--algorithm", "eagle3", "--verifier",
      Self.fixture("verifier"), "--output-path", eagle3,
    ])
    #expect(good.status == 0, "\(good.stderr)")
    #expect(good.stdout.contains("vllm serve \(eagle3)"))
    #expect(good.stdout.contains("--speculative-config '{\"method\": \"eagle3\", \"model\": \"\(eagle3)\""))
    let eagle = root.appendingPathComponent("e1").path
    let refused = try runSpeculators([
      "convert", Self.fixture("eagle1"), "--algorithm", "eagle", "--verifier", Self.fixture("verifier"),
      "--output-path", eagle, "--json",
    ])
    #expect(refused.status == 0, "\(refused.stderr)")
    #expect(refused.stdout.contains("\"served\": false") || refused.stdout.contains("\"served\":false"))
    #expect(refused.stdout.contains("serve the original EAGLE-1 checkpoint"))
    let verify = try runSpeculators(["verify", eagle, "--verifier", Self.fixture("verifier")])
    #expect(verify.status == 1)
    #expect(verify.stdout.contains("config.vllm-support"))
  }
}
