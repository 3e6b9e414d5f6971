import Foundation
import Testing

@testable import Inspect
@testable import Validate

/// `verify` on the committed DFlash, Speculators-type and MTP fixtures
/// (`scripts/make_format_fixtures.py`, speculators 0.9.0 references), against the fixture verifier.
@Suite struct VerifierFormatTests {
  static let fixtures: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures")
  }()

  static func verify(_ directory: String) throws -> VerifyReport {
    try Verifier.verify(
      path: fixtures.appendingPathComponent(directory).path,
      options: VerifyOptions(verifier: fixtures.appendingPathComponent("verifier").path))
  }

  @Test(arguments: [
    ("speculators-dflash2", ExpectedTensors.Layout.speculatorsDFlash),
    ("speculators-dspark", .speculatorsDFlash), ("speculators-peagle", .speculatorsEagle3),
    ("speculators-mtp", .speculatorsMTP), ("dflash-zlab", .dflashSource), ("dflash-fused-qkv", .dflashSource),
  ])
  func speculatorsTypesAreCheckedByTheirTables(directory: String, layout: ExpectedTensors.Layout) throws {
    let report = try Self.verify(directory)
    #expect(report.layout == layout)
    // mtp is refused by vLLM's speculators path (config.vllm-support), dspark and dflash2 by its
    // CPU build (config.vllm-runner); their tensors are fine.
    #expect(report.findings.filter { !CheckCatalogue.servingChecks.contains($0.check) }.isEmpty, "\(report.findings)")
    #expect(report.checksRun.contains(.tensorsMissing))
    #expect(report.checksRun.contains(.tensorsUnexpected))
  }

  @Test func dflash2WithoutItsSelectorIsMissingTensors() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let source = try CheckpointReader.open(Self.fixtures.appendingPathComponent("speculators-dflash2").path)
    let kept = source.tensors.filter { !$0.name.hasPrefix("candidate_selector.") }
    let report = try Verifier.verify(
      checkpoint: Checkpoint(
        location: source.location, directory: source.directory, files: source.files, config: source.config,
        metadata: source.metadata, tensors: kept))
    let missing = report.findings(.tensorsMissing)
    #expect(missing.contains { $0.message.contains("candidate_selector.hidden_projection.weight") })
  }

  @Test(arguments: [
    ("speculators-dspark", "dspark speculative decoding"),
    ("speculators-dflash2", "DFlash candidate-head drafts (DFlash2DraftModel)"),
  ])
  func typesOnlyVLLMsGPURunnerServesAreWarned(directory: String, feature: String) throws {
    let report = try Self.verify(directory)
    let runner = report.findings(.configVLLMRunner)
    #expect(runner.count == 1)
    #expect(runner.first?.severity == .warning)
    #expect(runner.first?.message.contains("serves \(feature) only on its V2 model runner") == true, "\(runner)")
  }

  @Test func dflashWithFullAttentionRunsOnVLLMsCPURunner() throws {
    let report = try Self.verify("reference-0.9.0/dflash-zlab")
    #expect(report.checksRun.contains(.configVLLMRunner))
    #expect(report.findings(.configVLLMRunner).isEmpty)
  }

  @Test func peagleWithoutMaskHiddenIsMissingWhatVLLMRequires() throws {
    let source = try CheckpointReader.open(Self.fixtures.appendingPathComponent("speculators-peagle").path)
    #expect(source.tensor(named: "mask_hidden")?.shape == [1, 1, 192])
    let kept = source.tensors.filter { $0.name != "mask_hidden" }
    let report = try Verifier.verify(
      checkpoint: Checkpoint(
        location: source.location, directory: source.directory, files: source.files, config: source.config,
        metadata: source.metadata, tensors: kept))
    let missing = report.findings(.tensorsMissing)
    #expect(missing.count == 1)
    #expect(missing.first?.severity == .error)
    #expect(missing.first?.message.contains("mask_hidden") == true, "\(missing)")
  }

  @Test func speculatorsDFlashConversionWarnsThatVLLMRunsItCausal() throws {
    let report = try Self.verify("reference-0.9.0/dflash-zlab")
    #expect(!report.hasErrors, "\(report.findings)")
    let causal = report.findings(.configDFlashCausal)
    #expect(causal.count == 1)
    #expect(causal.first?.severity == .warning)
    #expect(causal.first?.message.contains("2 full-attention layer(s) causal") == true)
    #expect(report.checksRun.contains(.verifierFCWidth))
    #expect(report.checksRun.contains(.verifierAuxLayerIDs))
  }

  @Test func dflashWithAttentionBiasNeedsAnOProjBias() throws {
    // vLLM's DFlash attention has an o_proj bias under attention_bias (qwen3_dflash.py); a
    // converted draft without it serves an uninitialised bias.
    var spec = DraftFixtures.dflash()
    spec.setConfig("transformer_layer_config.attention_bias", true)
    let table = try ExpectedTensors.speculators(config: try #require(spec.config))
    #expect(
      table.tensor(named: "layers.0.self_attn.o_proj.bias")?.presence == .flag(.attentionBias, enabled: true))
    #expect(table.tensor(named: "layers.1.self_attn.q_proj.bias")?.presence == .flag(.attentionBias, enabled: true))
    let eagle3 = try ExpectedTensors.speculators(
      config: try #require(DraftFixtures.eagle3(qwen3: true).config).setting(
        "transformer_layer_config", to: DraftFixtures.layerConfig(layers: 1, modelType: "qwen3")))
    #expect(eagle3.tensor(named: "layers.0.self_attn.o_proj.bias")?.presence == .optional)
  }

  @Test func mtpIsNotServedByTheSpeculatorsPath() throws {
    let report = try Self.verify("speculators-mtp")
    #expect(report.findings(.configVLLMSupport).first?.message.contains("stitch") == true)
  }

  @Test(arguments: ["mtp-deepseek", "mtp-qwen3-next", "mtp-mimo"])
  func verifiersWithTheirMTPLayersPass(directory: String) throws {
    let report = try Self.verify(directory)
    #expect(report.detectedFormat == SourceFormat.mtpVerifier.rawValue)
    #expect(report.checksRun.contains(.mtpLayersPresent))
    #expect(report.findings.isEmpty, "\(report.findings)")
  }

  @Test func strippedMTPLayersAreAnError() throws {
    let report = try Self.verify("mtp-stripped")
    let findings = report.findings(.mtpLayersPresent)
    #expect(findings.count == 1)
    #expect(findings.first?.severity == .error)
    #expect(findings.first?.key == "num_nextn_predict_layers")
    #expect(findings.first?.message.contains("promises 1 MTP layer(s) but the tensors hold 0") == true)
  }
}
