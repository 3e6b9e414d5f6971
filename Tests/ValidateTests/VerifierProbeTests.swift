import Foundation
import Inspect
import Probe
import Testing

@testable import Validate

/// `verify --probe` on the vLLM interop fixtures (drafts with real acceptance): a healthy draft
/// passes both probe checks; a foreign embedding collapses acceptance and is named as the fix;
/// permuted lm_head rows collapse acceptance with no reading to restore it.
@Suite struct VerifierProbeTests {
  static let interop = CheckCatalogueTests.packageRoot.appendingPathComponent("Fixtures/interop")
  static var verifier: String { interop.appendingPathComponent("verifier").path }

  /// A copy of the SpecForge EAGLE-3 fixture with the rows of `tensor` rolled by one.
  static func draft(rolling tensor: String?) throws -> URL {
    let target = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: interop.appendingPathComponent("eagle3-specforge"), to: target)
    guard let tensor else { return target }
    let weights = target.appendingPathComponent("model.safetensors")
    let info = try #require(try CheckpointReader.open(weights.path).tensor(named: tensor))
    guard case .contiguous(let offset, let length) = info.layout else { throw CocoaError(.fileReadCorruptFile) }
    var data = try Data(contentsOf: weights)
    let row = length / info.shape[0]
    let bytes = data.subdata(in: offset..<offset + length)
    data.replaceSubrange(offset..<offset + length, with: bytes.suffix(from: bytes.startIndex + row) + bytes.prefix(row))
    try data.write(to: weights)
    return target
  }

  /// The interop task's prompts (the ones vLLM decodes).
  static func prompts() throws -> [[Int]] {
    let data = try Data(contentsOf: interop.appendingPathComponent("task.json"))
    let task = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return try #require(task?["prompts"] as? [[Int]])
  }

  static func verify(_ draft: URL) throws -> VerifyReport {
    try Verifier.verify(
      path: draft.path,
      options: VerifyOptions(
        verifier: verifier, probe: ProbeOptions(prompts: prompts(), maxTokens: 8, speculativeTokens: 3)))
  }

  @Test func healthyDraftPassesTheProbe() throws {
    let draft = try Self.draft(rolling: nil)
    defer { try? FileManager.default.removeItem(at: draft) }
    let report = try Self.verify(draft)
    #expect(!report.findings.contains { $0.check.rawValue.hasPrefix("probe.") })
    #expect(report.checksRun.contains(.probeAcceptance) && report.checksRun.contains(.probeMisreading))
  }

  @Test func foreignEmbeddingIsNamed() throws {
    let draft = try Self.draft(rolling: "embed_tokens.weight")
    defer { try? FileManager.default.removeItem(at: draft) }
    let report = try Self.verify(draft)
    #expect(report.findings.contains { $0.check == .probeAcceptance && $0.severity == .error })
    let misreading = report.findings.first { $0.check == .probeMisreading }
    #expect(misreading?.found == "embedding=verifier")
    #expect(misreading?.message.contains("with embedding=verifier") == true)
  }

  @Test func permutedLMHeadCollapsesWithoutAFix() throws {
    let draft = try Self.draft(rolling: "lm_head.weight")
    defer { try? FileManager.default.removeItem(at: draft) }
    let report = try Self.verify(draft)
    #expect(report.findings.contains { $0.check == .probeAcceptance })
    #expect(!report.findings.contains { $0.check == .probeMisreading })
  }

  @Test func withoutProbeTheChecksAreSkipped() throws {
    let report = try Verifier.verify(
      path: Self.interop.appendingPathComponent("eagle3-specforge").path, options: VerifyOptions(verifier: Self.verifier))
    #expect(report.skipped.contains { $0.check == .probeAcceptance })
  }
}
