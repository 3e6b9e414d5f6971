import Testing

@testable import Inspect

/// The ambiguities of `docs/formats.md`, each broken the documented way.
@Suite struct DetectionAmbiguityTests {
  typealias S = SyntheticDrafts

  // MARK: EAGLE-1 vs official HASS (same tensors)

  @Test func fusionBiasInFp32IsLabelledHassWithLowConfidence() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle1(dtype: .F32, bias: true), files: [S.binFile]))
    #expect(detection.format == .hassFusionBias)
    #expect(detection.confidence == 0.5)
    #expect(detection.alternatives == [.eagle1])
    #expect(detection.conversion == .algorithm(.eagle))
    #expect(detection.facts.fusionBias)
    #expect(detection.evidence.contains("fc.weight stored as F32 (official HASS releases are fp32)"))
    #expect(
      detection.notes.contains(
        "EAGLE-1/2 and official HASS share every tensor; the HASS label rests on hints only"))
  }

  @Test func hassInThePathRaisesTheHassLabel() {
    let detection = FormatDetector.detect(
      S.checkpoint(
        S.eagle1(dtype: .F32, bias: true), files: [S.binFile], location: "/models/HASS-LLaMA2-Chat-13B"))
    #expect(detection.format == .hassFusionBias)
    #expect(detection.confidence == 0.6)
    #expect(detection.evidence.contains("the path names HASS"))
  }

  @Test func fusionBiasInFp16StaysEagle1() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle1(dtype: .F16, bias: true), files: [S.binFile]))
    #expect(detection.format == .eagle1)
    #expect(detection.confidence == 0.75)
    #expect(detection.alternatives == [.hassFusionBias])
    #expect(detection.facts.fusionBias)
    #expect(detection.notes.contains("fc.bias is also what official HASS has; F16 storage points to EAGLE"))
  }

  @Test func fp32WithoutBiasIsEagle1() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle1(dtype: .F32, bias: false), files: [S.binFile], location: "/m/HASS-like"))
    #expect(detection.format == .eagle1)
    #expect(detection.confidence == 0.9)
    #expect(detection.alternatives.isEmpty)
  }

  @Test func tensorsWinOverConfigBias() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle1(dtype: .F16, bias: true), config: S.draftConfig(extra: [("bias", false)])))
    #expect(detection.facts.fusionBias)
    #expect(detection.notes.contains("config bias false but fc.bias is present; trusting the tensors"))
  }

  @Test func eagle1ConfigSaysLlamaForCausalLMButTensorsDecide() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle1(), config: S.draftConfig()))
    #expect(detection.format == .eagle1)
  }

  @Test func eagle1WithExtraNormIsStillEagle1WithLowerConfidence() {
    let tensors = S.eagle1() + [S.tensor("layers.0.input_layernorm.weight", [S.hidden], .F16)]
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .eagle1)
    #expect(detection.confidence == 0.7)
    #expect(detection.signature == "fc.weight [64, 128] = 2×hidden, layers.0.q_proj in 64")
    #expect(
      detection.notes.contains(
        "layers.0.input_layernorm.weight present; EAGLE skips the first layer's input norm"))
  }

  // MARK: HASS with layernorms

  @Test func allThreeExtraNorms() {
    let detection = FormatDetector.detect(S.checkpoint(S.hassLayernorms()))
    #expect(detection.format == .hassLayernorms)
    #expect(detection.confidence == 0.9)
  }

  @Test func partialExtraNormsLowerTheConfidence() {
    let tensors = S.eagle1(dtype: .F32) + [S.tensor("embed_layernorm.weight", [S.hidden], .F32)]
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .hassLayernorms)
    #expect(detection.confidence == 0.75)
    #expect(
      detection.notes.contains(
        "missing hidden_layernorm.weight, lm_head_layernorm.weight; research/hass writes all three"))
  }

  @Test func postEmbeddingLayernormAliasIsLowConfidence() {
    let tensors = S.eagle1(dtype: .F32) + [S.tensor("post_embedding_layernorm.weight", [S.hidden], .F32)]
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .hassLayernorms)
    #expect(detection.confidence == 0.6)
    #expect(detection.facts.layernorms)
  }

  // MARK: SafeAILab vs SpecForge EAGLE-3 (same tensors)

  struct ProducerCase: Sendable, CustomTestStringConvertible {
    var label: String
    var architectures: [String]?
    var bin: Bool
    var embed: Bool
    var expected: SourceFormat
    var confidence: Double
    var testDescription: String { label }
  }

  @Test(arguments: [
    ProducerCase(
      label: "official release", architectures: ["LlamaForCausalLM"], bin: true, embed: false,
      expected: .eagle3SafeAILab, confidence: 0.8),
    ProducerCase(
      label: "SpecForge since Aug 2025", architectures: ["LlamaForCausalLMEagle3"], bin: false,
      embed: false, expected: .eagle3SpecForge, confidence: 0.7),
    ProducerCase(
      label: "SpecForge before Aug 2025", architectures: ["LlamaForCausalLMEagle3"], bin: false,
      embed: true, expected: .eagle3SpecForge, confidence: 0.8),
    ProducerCase(
      label: "safetensors copy of the official release", architectures: ["LlamaForCausalLM"],
      bin: false, embed: false, expected: .eagle3SafeAILab, confidence: 0.55),
    ProducerCase(
      label: "renamed SpecForge output", architectures: ["LlamaForCausalLM"], bin: false, embed: true,
      expected: .eagle3SpecForge, confidence: 0.55),
    ProducerCase(
      label: "bin without config", architectures: nil, bin: true, embed: false,
      expected: .eagle3SafeAILab, confidence: 0.6),
    ProducerCase(
      label: "safetensors without config", architectures: nil, bin: false, embed: false,
      expected: .eagle3SpecForge, confidence: 0.55),
  ])
  func safeAILabVersusSpecForge(_ testCase: ProducerCase) {
    let config = testCase.architectures.map { S.draftConfig(architectures: $0, draftVocabSize: S.draftVocab) }
    let detection = FormatDetector.detect(
      S.checkpoint(
        S.eagle3Midlayer(dtype: testCase.bin ? .F16 : .BF16, embed: testCase.embed), config: config,
        files: [testCase.bin ? S.binFile : S.safetensorsFile]))
    #expect(detection.format == testCase.expected)
    #expect(detection.confidence == testCase.confidence)
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.alternatives.count == 1)
    #expect(detection.evidence.first == "10 midlayer.* tensors (EAGLE-3 naming)")
  }

  @Test func fcNormTensorsPointToSpecForge() {
    let tensors =
      S.eagle3Midlayer(dtype: .BF16) + (0..<3).map { S.tensor("fc_norm.\($0).weight", [S.hidden]) }
    let config = S.draftConfig(
      draftVocabSize: S.draftVocab,
      extra: [
        ("fc_norm", true),
        ("eagle_config", ["eagle_aux_hidden_state_layer_ids": [0, 1, 2], "use_aux_hidden_state": true]),
      ])
    let detection = FormatDetector.detect(S.checkpoint(tensors, config: config))
    #expect(detection.format == .eagle3SpecForge)
    #expect(detection.evidence.contains("3 fc_norm.* tensors (SpecForge's EAGLE-3.1 option)"))
    #expect(
      detection.evidence.contains(
        "config eagle_config holds only eagle_aux_hidden_state_layer_ids, use_aux_hidden_state (SpecForge)"))
    #expect(detection.evidence.contains("config keys fc_norm (SpecForge options)"))
  }

  @Test func nothingToTellProducersApartIsSaidSo() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Midlayer(), files: []))
    #expect(detection.format == .eagle3SafeAILab)
    #expect(detection.confidence == 0.5)
    #expect(
      detection.notes.contains(
        "SafeAILab and SpecForge write the same tensors and nothing here tells them apart"))
  }

  // MARK: EAGLE-3 without t2d: ModelOpt v1, full vocabulary, or broken

  @Test func noT2dNoEmbedInSafetensorsIsModelOptV1() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Midlayer(dtype: .BF16, t2d: false)))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.confidence == 0.6)
    #expect(detection.alternatives == [.eagle3SafeAILab, .eagle3SpecForge])
    #expect(detection.conversion == .algorithm(.eagle3))
  }

  @Test func modelOptArchitectureRaisesTheV1Label() {
    let config = S.draftConfig(architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab)
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(dtype: .BF16, t2d: false), config: config))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.confidence == 0.65)
  }

  @Test func modelOptV1WithTheTargetHeadNeedsNoVocabMap() {
    let tensors = S.eagle3Midlayer(dtype: .BF16, d2t: false, t2d: false, headRows: S.vocab)
    let config = S.draftConfig(
      architectures: ["LlamaForCausalLMEagle3"], extra: [("eagle_config", S.modelOptEagleConfig)])
    let detection = FormatDetector.detect(S.checkpoint(tensors, config: config))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.facts.draftVocabSize == 512)
    #expect(
      detection.notes.contains("no d2t/t2d: the head covers the full vocabulary (512), so none are needed"))
  }

  @Test func reducedHeadWithoutAnyVocabMapIsBroken() {
    let config = S.draftConfig(architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab)
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(dtype: .BF16, d2t: false, t2d: false), config: config))
    #expect(
      detection.conversion
        == .none(
          reason: "lm_head.weight has 128 rows but the target vocabulary has 512 and there is no d2t "
            + "to map draft ids to target ids"))
    #expect(detection.notes.contains { $0.hasSuffix("vLLM would read draft id i as target id i") })
    #expect(
      detection.conflict(withRequested: .eagle3)?.hasSuffix("there is no d2t to map draft ids to target ids")
        == true)
  }

  @Test func noVocabMapAndUnknownVocabAsksToCheckTheVerifier() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(dtype: .BF16, d2t: false, t2d: false)))
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(
      detection.notes.contains(
        "no d2t/t2d and the target vocabulary is unknown: check lm_head rows against the verifier"))
  }

  @Test func officialBinWithoutT2dStaysSafeAILab() {
    let detection = FormatDetector.detect(
      S.checkpoint(
        S.eagle3Midlayer(t2d: false), config: S.draftConfig(draftVocabSize: 128), files: [S.binFile]))
    #expect(detection.format == .eagle3SafeAILab)
    #expect(
      detection.notes.contains("d2t without t2d: runtimes do not need t2d, and it can be derived from d2t"))
  }

  @Test func t2dWithoutD2tIsDerivable() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Midlayer(d2t: false), files: [S.binFile]))
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(
      detection.notes.contains(
        "t2d without d2t: d2t can be derived from t2d (the i-th kept target id minus i)"))
  }

  @Test func modelOptKeysWithT2dAreNoted() {
    let config = S.draftConfig(extra: [("eagle_config", S.modelOptEagleConfig)])
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Midlayer(dtype: .BF16), config: config))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.confidence == 0.65)
    #expect(detection.notes.contains("t2d present although ModelOpt exports never write it"))
  }

  @Test func numberedMidlayersAreModelOptMultiLayer() {
    let tensors =
      S.eagle3Common(dtype: .BF16, embed: false, d2t: true, t2d: false)
      + S.decoderLayer("midlayer.0.", inputWidth: 2 * S.hidden, inputNorm: true, hiddenNorm: true)
      + S.decoderLayer("midlayer.1.", inputNorm: true)
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.facts.decoderLayers == 2)
    #expect(
      detection.evidence.contains("numbered midlayer.N.* layers (2): ModelOpt's Dec 2025 multi-layer export"))
  }

  // MARK: layers.0.hidden_norm naming: ModelOpt v2, Speculators, NeMo, unidentified

  @Test func layersNamingWithoutT2dOrEmbedIsModelOptV2() {
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Layers()))
    #expect(detection.format == .eagle3ModelOptV2)
    #expect(detection.confidence == 0.65)
    #expect(detection.alternatives == [.eagle3Layers])
    #expect(detection.conversion == .algorithm(.eagle3))
  }

  @Test func layersNamingWithModelOptArchitecture() {
    let config = S.draftConfig(architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab)
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Layers(), config: config))
    #expect(detection.format == .eagle3ModelOptV2)
    #expect(detection.confidence == 0.7)
  }

  @Test func layersNamingWithT2dAndEmbedIsUnidentified() {
    let detection = FormatDetector.detect(
      S.checkpoint(
        S.eagle3Layers(embed: true, t2d: true, layers: 2),
        config: S.draftConfig(draftVocabSize: 128, layers: 2)))
    #expect(detection.format == .eagle3Layers)
    #expect(detection.confidence == 0.6)
    #expect(detection.alternatives == [.speculatorsEagle3])
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.facts.decoderLayers == 2)
    #expect(detection.evidence.contains("t2d present (ModelOpt never writes it)"))
  }

  @Test func speculatorsKeysWithoutModelTypeAreADamagedSpeculatorsConfig() {
    let config = S.speculatorsConfig(type: "eagle3").removing("speculators_model_type")
    let detection = FormatDetector.detect(S.checkpoint(S.speculatorsEagle3(), config: config))
    #expect(detection.format == .speculatorsEagle3)
    #expect(detection.confidence == 0.7)
    #expect(
      detection.notes == ["config.json lacks speculators_model_type, which speculators and vLLM require"])
    #expect(detection.conversion.algorithm == nil)
  }

  @Test func layersHiddenNormWithQProjOverHiddenIsNotEagle3() {
    let tensors =
      S.eagle3Common(dtype: .BF16, embed: false, d2t: true, t2d: false)
      + S.decoderLayer("layers.0.", inputWidth: S.hidden, inputNorm: true, hiddenNorm: true)
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format != .eagle3ModelOptV2)
    #expect(detection.format.family != .eagle3)
  }

  // MARK: Prefixes

  @Test func draftModelPrefixIsStrippedAndRetried() {
    let tensors = S.eagle1().map { info in
      var renamed = info
      renamed.name = "draft_model." + info.name
      return renamed
    }
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .eagle1)
    #expect(detection.strippedPrefix == "draft_model.")
    #expect(detection.facts.hiddenSize == 64)
  }

  @Test func prefixIsNotStrippedWhenSomeNameLacksIt() {
    let tensors = S.eagle3Layers(d2t: true, prefix: "model.") + [S.tensor("stray.weight", [4])]
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .unknown)
    #expect(detection.strippedPrefix == nil)
  }

  @Test func prefixIsNotStrippedWhenItWouldCollide() {
    let tensors =
      S.eagle3Layers(d2t: true, prefix: "model.") + [
        S.tensor("lm_head.weight", [1]), S.tensor("model.lm_head.weight", [1]),
      ]
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.strippedPrefix == nil)
  }

  // MARK: Speculators configs

  @Test func speculatorsConfigOverMismatchedTensorsIsNoted() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(), config: S.speculatorsConfig(type: "eagle3")))
    #expect(detection.format == .speculatorsEagle3)
    #expect(detection.confidence == 0.8)
    #expect(
      detection.notes.contains(
        "layers.0.hidden_norm.weight is missing: the tensors do not look like a Speculators eagle3 checkpoint"
      ))
    #expect(
      detection.notes.contains(
        "tensors use midlayer.* names; a Speculators eagle3 checkpoint uses layers.0.*"))
  }

  @Test func unknownSpeculatorsTypeIsUnsupported() {
    let detection = FormatDetector.detect(S.checkpoint([], config: S.speculatorsConfig(type: "independent")))
    #expect(detection.format == .speculatorsUnsupported)
    #expect(
      detection.conversion.reason?.hasPrefix("a Speculators \"independent\" checkpoint of a type this tool does not know")
        == true)
  }

  // MARK: Config-only guesses and disagreements

  @Test func configOnlyEagle3Guess() {
    let config = S.draftConfig(architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab)
    let detection = FormatDetector.detect(S.checkpoint([], config: config, files: []))
    #expect(detection.format == .eagle3SpecForge)
    #expect(detection.confidence == 0.6)
    #expect(detection.evidence.first == "no tensors found: a guess from config.json alone")
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.facts.draftVocabSize == 128)
    #expect(detection.facts.hiddenSize == 64)
  }

  @Test func configOnlyModelOptCannotTellTheGeneration() {
    let config = S.draftConfig(
      architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab,
      extra: [("eagle_config", S.modelOptEagleConfig)])
    let detection = FormatDetector.detect(S.checkpoint([], config: config, files: []))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.alternatives == [.eagle3ModelOptV2])
  }

  @Test func configOnlyVerifierGuess() {
    let detection = FormatDetector.detect(S.checkpoint([], config: S.draftConfig(layers: 32), files: []))
    #expect(detection.format == .hfCausalLM)
    #expect(detection.confidence == 0.6)
    #expect(detection.conversion.reason == "this is a base model, not a draft; pass it as --verifier")
  }

  @Test func configOnlyEagle1Guess() {
    let detection = FormatDetector.detect(
      S.checkpoint([], config: S.draftConfig(extra: [("bias", true)]), files: []))
    #expect(detection.format == .eagle1)
    #expect(detection.confidence == 0.5)
    #expect(detection.evidence.contains("config has the EAGLE-1 key \"bias\""))
  }

  @Test func configHiddenSizeDisagreementIsNoted() {
    let config = S.draftConfig(draftVocabSize: S.draftVocab).setting("hidden_size", to: 4096)
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(), config: config, files: [S.binFile]))
    #expect(detection.facts.hiddenSize == 64)
    #expect(
      detection.notes.contains(
        "config hidden_size 4096 disagrees with the tensors (hidden 64); trusting tensors"))
  }

  @Test func targetHiddenSizeSetsTheAuxCount() {
    let tensors = S.eagle3Midlayer().map { info -> TensorInfo in
      guard info.name == "fc.weight" else { return info }
      return S.tensor("fc.weight", [S.hidden, 3 * 96], .F16)
    }
    let config = S.draftConfig(draftVocabSize: S.draftVocab, extra: [("target_hidden_size", 96)])
    let detection = FormatDetector.detect(S.checkpoint(tensors, config: config, files: [S.binFile]))
    #expect(detection.facts.targetHiddenSize == 96)
    #expect(detection.facts.auxStateCount == 3)
    #expect(
      detection.evidence.contains("fc.weight [64, 288] = 3×target_hidden_size (tapped verifier states)"))
  }
}
