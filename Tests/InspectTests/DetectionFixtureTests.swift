import Foundation
import Testing

@testable import Inspect

/// Every real fixture directory (written by torch / safetensors / transformers, and by the real
/// speculators 0.1.0 for `reference/`) opened with ``CheckpointReader`` and detected.
@Suite struct DetectionFixtureTests {
  static let fixtures: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures")
  }()

  struct Case: Sendable, CustomTestStringConvertible {
    var directory: String
    var format: SourceFormat
    var algorithm: ConversionAlgorithm?
    /// An evidence line (or note) the detection must contain.
    var evidence: String
    var testDescription: String { directory }
  }

  static let cases: [Case] =
    [
      Case(
        directory: "eagle1-bin", format: .eagle1, algorithm: .eagle,
        evidence: "fc.bias [64] present (fusion bias)"),
      Case(
        directory: "eagle-safetensors", format: .eagle1, algorithm: .eagle,
        evidence: "no layers.0.input_layernorm.weight (EAGLE skips the first layer's input norm)"),
      Case(
        directory: "hass-bias", format: .hassFusionBias, algorithm: .eagle,
        evidence: "fc.weight stored as F32 (official HASS releases are fp32)"),
      Case(
        directory: "hass-layernorms", format: .hassLayernorms, algorithm: .eagle,
        evidence: "embed_layernorm.weight, hidden_layernorm.weight, lm_head_layernorm.weight present "
          + "(HASS extra RMSNorms)"),
      Case(
        directory: "eagle3-bin", format: .eagle3SafeAILab, algorithm: .eagle3,
        evidence: "weights in a torch zip (.bin): SafeAILab releases are .bin, SpecForge writes safetensors"),
      Case(
        directory: "eagle3-embed", format: .eagle3SpecForge, algorithm: .eagle3,
        evidence: "config architectures [\"LlamaForCausalLMEagle3\"] (SpecForge/SGLang name)"),
      Case(
        directory: "eagle3-2layer", format: .eagle3Layers, algorithm: .eagle3,
        evidence: "layers.0.hidden_norm.weight [64] (EAGLE-3 fused-input norm)"),
      Case(
        directory: "eagle3-prefixed", format: .eagle3NeMo, algorithm: .eagle3,
        evidence: "no d2t/t2d: the head covers the full vocabulary (512), so none are needed"),
      Case(
        directory: "modelopt-v1", format: .eagle3ModelOptV1, algorithm: .eagle3,
        evidence: "config eagle_config has ModelOpt keys: use_input_layernorm_in_first_layer, "
          + "use_last_layernorm, use_mtp_layernorm"),
      Case(
        directory: "modelopt-v2", format: .eagle3ModelOptV2, algorithm: .eagle3,
        evidence:
          "layers.0.self_attn.q_proj.weight [64, 128]: q_proj takes 2×hidden (embedding ⊕ fused state)"),
      Case(
        directory: "pickle-named-safetensors", format: .eagle3SpeculatorsResearch, algorithm: nil,
        evidence: "model.safetensors is a torch zip despite its name (the research trainer's torch.save)"),
      Case(
        directory: "medusa", format: .medusa, algorithm: nil, evidence: "file medusa_lm_head.safetensors"),
      Case(
        directory: "mlp-speculator", format: .mlpSpeculator, algorithm: nil,
        evidence: "config model_type \"mlp_speculator\""),
      Case(
        directory: "speculators-eagle", format: .speculatorsEagle, algorithm: nil,
        evidence: "fusion_fc.weight [64, 128] present, as the eagle layout has"),
      Case(
        directory: "speculators-eagle3", format: .speculatorsEagle3, algorithm: nil,
        evidence: "layers.0.hidden_norm.weight [64] present, as the eagle3 layout has"),
      Case(
        directory: "verifier", format: .hfCausalLM, algorithm: nil,
        evidence: "model.layers.0–3: 4 decoder layer(s), each with input_layernorm"),
    ]
    + formatCases
    + ["eagle1-bin", "eagle-safetensors", "hass-layernorms"].map {
      Case(
        directory: "reference/\($0)", format: .speculatorsEagle, algorithm: nil,
        evidence: "config speculators_model_type \"eagle\"")
    }
    + ["eagle3-bin", "eagle3-embed", "eagle3-2layer"].map {
      Case(
        directory: "reference/\($0)", format: .speculatorsEagle3, algorithm: nil,
        evidence: "config speculators_model_type \"eagle3\"")
    }

  /// The cases of `scripts/make_format_fixtures.py` and its speculators 0.9.0 references.
  static let formatCases: [Case] =
    [
      Case(
        directory: "dflash-zlab", format: .dflashZLab, algorithm: .dflash,
        evidence: "no embed_tokens.weight and no lm_head.weight (the verifier's are shared)"),
      Case(
        directory: "dflash-fused-qkv", format: .dflashZLab, algorithm: .dflash,
        evidence: "fused qkv_proj (Laguna style): split into q/k/v on conversion"),
      Case(
        directory: "eagle3-qwen3", format: .eagle3SpecForge, algorithm: .eagle3,
        evidence: "midlayer.self_attn.q_norm.weight [16]: Qwen3 attention (vLLM runs Eagle3Qwen3ForCausalLM)"),
      Case(
        directory: "eagle3-norm-before-fc", format: .eagle3Layers, algorithm: .eagle3,
        evidence: "input_norm.weight [192] (EAGLE-3.1 norm_before_fc)"),
      Case(
        directory: "eagle3-fc-norm", format: .eagle3Layers, algorithm: .eagle3,
        evidence: "fc_norm.0.weight [64] and its siblings (EAGLE-3.1 fc_norm)"),
      Case(
        directory: "mtp-deepseek", format: .mtpVerifier, algorithm: nil,
        evidence: "1 MTP layer(s) at model.layers.{num_hidden_layers+i}"),
      Case(directory: "mtp-qwen3-next", format: .mtpVerifier, algorithm: nil, evidence: "1 MTP layer(s) at mtp.*"),
      Case(
        directory: "mtp-mimo", format: .mtpVerifier, algorithm: nil, evidence: "1 MTP layer(s) at model.mtp_layers.{i}"
      ),
      Case(
        directory: "mtp-stripped", format: .mtpVerifier, algorithm: nil,
        evidence: "config promises 1 MTP layer(s) but the tensors hold 0: a quantized or stripped export; "
          + "vLLM would load garbage or refuse (verify reports it)"),
    ]
    + [
      ("speculators-dflash", "dflash", SourceFormat.speculatorsDFlash),
      ("speculators-dflash2", "dflash2", .speculatorsDFlash2), ("speculators-dspark", "dspark", .speculatorsDSpark),
      ("speculators-peagle", "peagle", .speculatorsPEagle), ("speculators-mtp", "mtp", .speculatorsMTP),
      ("reference-0.9.0/dflash-zlab", "dflash", .speculatorsDFlash),
      ("reference-0.9.0/dflash-fused-qkv", "dflash", .speculatorsDFlash),
      ("reference-0.9.0/eagle3-qwen3", "eagle3", .speculatorsEagle3),
      ("reference-0.9.0/eagle3-fc-norm", "eagle3", .speculatorsEagle3),
    ].map { Case(directory: $0.0, format: $0.2, algorithm: nil, evidence: "config speculators_model_type \"\($0.1)\"") }

  @Test(arguments: cases)
  func detectsTheFixture(_ testCase: Case) throws {
    let checkpoint = try CheckpointReader.open(Self.fixtures.appendingPathComponent(testCase.directory).path)
    let detection = FormatDetector.detect(checkpoint)
    #expect(detection.format == testCase.format)
    #expect(detection.conversion.algorithm == testCase.algorithm)
    #expect(
      (detection.evidence + detection.notes).contains(testCase.evidence),
      "evidence was \(detection.evidence), notes \(detection.notes)")
    #expect(detection.confidence >= 0.5)
    if testCase.format != .medusa && testCase.format != .mlpSpeculator {
      #expect(detection.facts.hiddenSize == 64)
      #expect(detection.facts.vocabSize == 512)
    }
  }

  @Test func everyFixtureDirectoryIsCovered() throws {
    // Not draft checkpoints: ground truth, hostile inputs, torch-reader unit fixtures.
    let skipped: Set<String> = ["expected", "reference", "reference-0.9.0", "interop", "probe", "hostile", "torch", "README.md"]
    var onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path)
      .filter { !skipped.contains($0) && !$0.hasPrefix(".") }
    for references in ["reference", "reference-0.9.0"] {
      onDisk += try FileManager.default.contentsOfDirectory(
        atPath: Self.fixtures.appendingPathComponent(references).path
      ).map { "\(references)/\($0)" }
    }
    #expect(
      Set(onDisk) == Set(Self.cases.map(\.directory)),
      "a new draft fixture belongs in DetectionFixtureTests.cases; anything else in `skipped`")
  }

  /// Facts read off the real files: the EAGLE-3 official release and the 2-layer draft.
  @Test func factsOfRealEagle3Files() throws {
    let official = FormatDetector.detect(
      try CheckpointReader.open(Self.fixtures.appendingPathComponent("eagle3-bin").path))
    #expect(
      official.facts
        == DetectedFacts(
          hiddenSize: 64, vocabSize: 512, draftVocabSize: 128, decoderLayers: 1, fcInputWidth: 192,
          auxStateCount: 3, d2tPresent: true, t2dPresent: true, weightsDType: .F16))
    let twoLayer = FormatDetector.detect(
      try CheckpointReader.open(Self.fixtures.appendingPathComponent("eagle3-2layer").path))
    #expect(twoLayer.facts.decoderLayers == 2)
    #expect(twoLayer.facts.embeddingsPresent)
    #expect(twoLayer.notes.isEmpty)
  }

  /// A single weights file (not its directory) is detected from the same tensors.
  @Test func singleWeightsFile() throws {
    let path = Self.fixtures.appendingPathComponent("eagle3-bin/pytorch_model.bin").path
    let detection = FormatDetector.detect(try CheckpointReader.open(path))
    #expect(detection.format.family == .eagle3)
    #expect(detection.conversion == .algorithm(.eagle3))
  }
}
