import Foundation
import Inspect
import Testing

@testable import Probe

/// The probe against the PyTorch reference (`Tests/Support/probe_reference.py`, verifier through
/// transformers) on the tiny checkpoints of `Fixtures/probe` (`scripts/make_probe_fixtures.sh`):
/// the same drafted and accepted counts, per position, and the same generated tokens.
@Suite struct ProbeReferenceTests {
  static let root = ProbeFixtures.root

  struct Expected: Decodable {
    var drafts: Int
    var draft_tokens: Int
    var accepted_tokens: Int
    var accepted_per_position: [Int]
    var outputs: [[Int]]
  }

  static func expected(_ name: String) throws -> Expected {
    let data = try Data(contentsOf: root.appendingPathComponent("expected/\(name).json"))
    return try JSONDecoder().decode(Expected.self, from: data)
  }

  static func probe(_ name: String, family: String, diagnose: Bool = false) throws -> ProbeReport {
    let prompts = try PromptFile.read(root.appendingPathComponent("prompts.jsonl").path)
    return try Prober.probe(
      draft: root.appendingPathComponent("drafts/\(name)").path,
      verifier: root.appendingPathComponent("verifiers/\(family)").path,
      options: ProbeOptions(prompts: prompts, maxTokens: 16, speculativeTokens: 3, diagnose: diagnose))
  }

  @Test(arguments: [
    ("llama-eagle3", "llama"), ("llama-eagle3-source", "llama"), ("llama-eagle3-2layer", "llama"),
    ("qwen2-eagle3", "qwen2"), ("qwen3-eagle3", "qwen3"), ("llama-eagle", "llama"),
    ("fault-norm-before-residual", "llama"), ("fault-aux-layers", "llama"), ("fault-embedding", "llama"),
  ])
  func matchesReference(name: String, family: String) throws {
    let expected = try Self.expected(name)
    let report = try Self.probe(name, family: family)
    #expect(report.outputs == expected.outputs, "\(name): generated tokens")
    #expect(report.acceptance.drafts == expected.drafts, "\(name)")
    #expect(report.acceptance.draftTokens == expected.draft_tokens, "\(name)")
    #expect(report.acceptance.acceptedTokens == expected.accepted_tokens, "\(name)")
    #expect(report.acceptance.acceptedPerPosition == expected.accepted_per_position, "\(name)")
  }

  @Test func sourceAndConversionReadAlike() throws {
    let source = try Self.probe("llama-eagle3-source", family: "llama")
    #expect(!source.converted)
    #expect(source.reading.normBeforeResidual == false)
    #expect(source.reading.auxLayerIDs == [1, 2, 4])
    #expect(source.reading.embedding == .verifier)
    #expect(source.reading.lmHead == .draft)
  }
}

/// Where the probe fixtures are.
enum ProbeFixtures {
  static let root: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        return url.appendingPathComponent("Fixtures/probe")
      }
    }
    return URL(fileURLWithPath: "Fixtures/probe")
  }()
}
