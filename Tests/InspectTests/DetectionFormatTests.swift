import Testing

@testable import Inspect

/// One hand-built checkpoint per recognised format, detected with its evidence and facts.
@Suite struct DetectionFormatTests {
  typealias S = SyntheticDrafts

  @Test func eagle1FromBin() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle1(dtype: .F16), config: S.draftConfig(extra: [("bias", false)]), files: [S.binFile])
    )
    #expect(detection.format == .eagle1)
    #expect(detection.confidence == 0.9)
    #expect(detection.conversion == .algorithm(.eagle))
    #expect(
      detection.signature
        == "fc.weight [64, 128] = 2×hidden, layers.0.q_proj in 64, no layers.0.input_layernorm")
    #expect(
      detection.evidence.contains(
        "no layers.0.input_layernorm.weight (EAGLE skips the first layer's input norm)"))
    #expect(
      detection.evidence.contains(
        "embed_tokens.weight [512, 64] present (official releases ship the embedding)"))
    #expect(detection.notes.isEmpty)
    #expect(
      detection.facts
        == DetectedFacts(
          hiddenSize: 64, vocabSize: 512, decoderLayers: 1, fcInputWidth: 128, embeddingsPresent: true,
          weightsDType: .F16))
  }

  @Test func hassWithLayernorms() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.hassLayernorms(), config: S.draftConfig(), files: [S.binFile]))
    #expect(detection.format == .hassLayernorms)
    #expect(detection.confidence == 0.9)
    #expect(detection.conversion == .algorithm(.eagle))
    #expect(
      detection.evidence[0]
        == "embed_layernorm.weight, hidden_layernorm.weight, lm_head_layernorm.weight present "
        + "(HASS extra RMSNorms)"
    )
    #expect(detection.facts.layernorms)
    #expect(!detection.facts.fusionBias)
    #expect(detection.facts.hiddenSize == 64)
  }

  @Test func eagle3SafeAILab() {
    let config = S.draftConfig(draftVocabSize: S.draftVocab)
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(), config: config, files: [S.binFile]))
    #expect(detection.format == .eagle3SafeAILab)
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.confidence == 0.8)
    #expect(detection.signature == "midlayer.* tensors, fc.weight [64, 192] = 3×hidden")
    #expect(detection.alternatives == [.eagle3SpecForge])
    #expect(
      detection.allText.contains(
        "config architectures [\"LlamaForCausalLM\"] (SafeAILab keeps the plain Llama name)"))
    #expect(detection.allText.contains("weights in a torch zip (.bin)"))
    #expect(detection.allText.contains("midlayer.self_attn.q_proj.weight [64, 128]: q_proj takes 2×hidden"))
    #expect(detection.allText.contains("t2d [512] BOOL present"))
    #expect(
      detection.facts
        == DetectedFacts(
          hiddenSize: 64, vocabSize: 512, draftVocabSize: 128, decoderLayers: 1, fcInputWidth: 192,
          auxStateCount: 3, d2tPresent: true, t2dPresent: true, weightsDType: .F16))
  }

  @Test func eagle3SpecForge() {
    let config = S.draftConfig(architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab)
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(dtype: .BF16, embed: true), config: config))
    #expect(detection.format == .eagle3SpecForge)
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.confidence == 0.8)
    #expect(detection.allText.contains("(SpecForge/SGLang name)"))
    #expect(detection.allText.contains("embed_tokens.weight present: SpecForge before Aug 2025 saved it"))
    #expect(detection.facts.embeddingsPresent)
  }

  @Test func eagle3ModelOptV1WithConfigKeys() {
    let config = S.draftConfig(
      architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab,
      extra: [("eagle_config", S.modelOptEagleConfig)])
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Midlayer(dtype: .BF16, t2d: false), config: config))
    #expect(detection.format == .eagle3ModelOptV1)
    #expect(detection.confidence == 0.8)
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(
      detection.allText.contains(
        "config eagle_config has ModelOpt keys: use_input_layernorm_in_first_layer, use_last_layernorm, "
          + "use_mtp_layernorm"
      ))
    #expect(
      detection.notes.contains("d2t without t2d: runtimes do not need t2d, and it can be derived from d2t"))
  }

  @Test func eagle3ModelOptV2() {
    let config = S.draftConfig(
      architectures: ["LlamaForCausalLMEagle3"], draftVocabSize: S.draftVocab, layers: 2,
      extra: [("eagle_config", S.modelOptEagleConfig)])
    let detection = FormatDetector.detect(S.checkpoint(S.eagle3Layers(layers: 2), config: config))
    #expect(detection.format == .eagle3ModelOptV2)
    #expect(detection.confidence == 0.85)
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(detection.signature == "layers.0.hidden_norm.weight, fc.weight [64, 192] = 3×hidden")
    #expect(detection.facts.decoderLayers == 2)
    #expect(detection.facts.auxStateCount == 3)
    #expect(detection.notes.allSatisfy { !$0.contains("num_hidden_layers") })
  }

  @Test func eagle3NeMoWithModelPrefix() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Layers(embed: true, d2t: true, t2d: true, prefix: "model."), config: nil))
    #expect(detection.format == .eagle3NeMo)
    #expect(detection.strippedPrefix == "model.")
    #expect(detection.conversion == .algorithm(.eagle3))
    #expect(
      detection.evidence.contains(
        "every tensor name except lm_head.* starts with model. (NeMo AutoModel naming)"))
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.facts.embeddingsPresent)
    #expect(detection.facts.draftVocabSize == 128)
  }

  /// NeMo AutoModel PR #2447: d2t/t2d went to a side file; the reduced head cannot be mapped.
  @Test func eagle3NeMoWithoutVocabMapsIsRefused() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Layers(embed: true, d2t: false, prefix: "model."), config: nil))
    #expect(detection.format == .eagle3NeMo)
    #expect(
      detection.conversion
        == .none(
          reason: "lm_head.weight has 128 rows but the target vocabulary has 512 and there is no d2t "
            + "to map draft ids to target ids"))
  }

  @Test func eagle3SpeculatorsResearchRawOutput() {
    let tensors =
      [
        S.tensor("fc.weight", [S.hidden, 3 * S.hidden]),
        S.tensor("hidden_norm.weight", [S.hidden]),
        S.tensor("input_layernorm.weight", [S.hidden]),
        S.tensor("lm_head_layernorm.weight", [S.hidden]),
        S.tensor("lm_head.weight", [S.draftVocab, S.hidden]),
        S.tensor("embed_tokens.weight", [S.vocab, S.hidden]),
      ] + S.decoderLayer("layers.0.", inputWidth: 2 * S.hidden, inputNorm: false)
    let disguised = CheckpointFile(
      path: "/d/model3.safetensors", name: "model3.safetensors", size: 1, kind: .torchZip)
    let detection = FormatDetector.detect(S.checkpoint(tensors, files: [disguised]))
    #expect(detection.format == .eagle3SpeculatorsResearch)
    #expect(detection.conversion.algorithm == nil)
    #expect(detection.conversion.reason?.contains("norm_before_residual=true") == true)
    #expect(
      detection.evidence.contains(
        "model3.safetensors is a torch zip despite its name (the research trainer's torch.save)"))
    #expect(detection.notes.contains("no d2t/t2d: the research trainer keeps them in separate .npy files"))
  }

  @Test func speculatorsEagle3Config() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.speculatorsEagle3(), config: S.speculatorsConfig(type: "eagle3")))
    #expect(detection.format == .speculatorsEagle3)
    #expect(detection.confidence == 0.99)
    #expect(
      detection.conversion
        == .none(
          reason: "already in the Speculators format (eagle3); nothing to convert, check it with verify"))
    #expect(detection.evidence.contains("config speculators_model_type \"eagle3\""))
    #expect(detection.evidence.contains("layers.0.hidden_norm.weight [64] present, as the eagle3 layout has"))
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.facts.vocabSize == 512)
    #expect(detection.facts.draftVocabSize == 128)
    #expect(detection.notes.isEmpty)
  }

  @Test func speculatorsEagleConfig() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.speculatorsEagle(bias: true), config: S.speculatorsConfig(type: "eagle")))
    #expect(detection.format == .speculatorsEagle)
    #expect(detection.conversion.reason?.hasPrefix("already in the Speculators format (eagle)") == true)
    #expect(detection.facts.fusionBias)
    #expect(detection.facts.decoderLayers == 1)
    #expect(detection.facts.fcInputWidth == 128)
  }

  @Test func speculatorsEagleNamesWithoutConfig() {
    let detection = FormatDetector.detect(S.checkpoint(S.speculatorsEagle()))
    #expect(detection.format == .speculatorsEagle)
    #expect(detection.confidence == 0.9)
    #expect(detection.evidence.contains("no config.json"))
    #expect(detection.conversion.reason?.contains("restore the Speculators config.json") == true)
  }

  @Test(arguments: [
    ("mtp", SourceFormat.speculatorsMTP), ("dflash", .speculatorsDFlash), ("peagle", .speculatorsPEagle),
    ("dspark", .speculatorsDSpark), ("dflash2", .speculatorsDFlash2),
  ])
  func speculatorsTypesAreNamedAndAlreadyConverted(type: String, format: SourceFormat) {
    let detection = FormatDetector.detect(
      S.checkpoint(S.speculatorsEagle3(), config: S.speculatorsConfig(type: type)))
    #expect(detection.format == format)
    #expect(detection.conversion == .none(reason: FormatDetector.alreadySpeculators(type)))
    #expect(detection.notes.contains { $0.hasPrefix("vLLM") })
    #expect(detection.conflict(withRequested: .eagle3)?.contains("already in the Speculators format") == true)
  }

  @Test func vllmLegacyEagleConfig() {
    let config: JSONValue = ["model_type": "eagle", "model": S.draftConfig(), "truncated_vocab_size": 128]
    let tensors =
      S.eagle1(embed: false) + [S.tensor("enorm.weight", [S.hidden]), S.tensor("hnorm.weight", [S.hidden])]
    let detection = FormatDetector.detect(S.checkpoint(tensors, config: config))
    #expect(detection.format == .vllmLegacyEagle)
    #expect(detection.confidence == 0.95)
    #expect(detection.conversion.algorithm == nil)
    #expect(detection.evidence.contains("enorm.weight [64] present"))
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.facts.layernorms)
  }

  @Test func vllmParaNormTensorsWithoutConfig() {
    let tensors =
      S.eagle1(embed: false) + [S.tensor("enorm.weight", [S.hidden]), S.tensor("hnorm.weight", [S.hidden])]
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .vllmLegacyEagle)
    #expect(detection.confidence == 0.85)
    #expect(detection.evidence[0] == "enorm.weight, hnorm.weight present (vLLM add_para_norm)")
  }

  @Test func medusaHeads() {
    var tensors: [TensorInfo] = []
    for head in 0..<2 {
      tensors += [
        S.tensor("\(head).0.linear.weight", [S.hidden, S.hidden]),
        S.tensor("\(head).0.linear.bias", [S.hidden]),
        S.tensor("\(head).1.weight", [S.vocab, S.hidden]),
      ]
    }
    let file = CheckpointFile(
      path: "/d/medusa_lm_head.pt", name: "medusa_lm_head.pt", size: 1, kind: .torchZip)
    let config: JSONValue = ["medusa_num_heads": 2, "medusa_num_layers": 1, "base_model_name_or_path": "x"]
    let detection = FormatDetector.detect(S.checkpoint(tensors, config: config, files: [file]))
    #expect(detection.format == .medusa)
    #expect(
      detection.evidence == [
        "config medusa_num_heads 2", "file medusa_lm_head.pt",
        "2 tensors named {head}.{layer}.linear.weight, e.g. 0.0.linear.weight [64, 64]",
      ])
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.conversion.reason?.hasPrefix("Medusa heads have no EAGLE equivalent") == true)
  }

  @Test func mlpSpeculatorByTensorsWithPrefix() {
    var tensors: [TensorInfo] = []
    for index in 0..<3 {
      tensors += [
        S.tensor("speculator.emb.\(index).weight", [S.vocab, S.intermediate]),
        S.tensor(
          "speculator.proj.\(index).weight", [S.intermediate, index == 0 ? S.hidden : S.intermediate]),
        S.tensor("speculator.head.\(index).weight", [S.vocab, S.intermediate]),
        S.tensor("speculator.ln.\(index).weight", [S.intermediate]),
      ]
    }
    let detection = FormatDetector.detect(S.checkpoint(tensors))
    #expect(detection.format == .mlpSpeculator)
    #expect(detection.strippedPrefix == "speculator.")
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.facts.vocabSize == 512)
    #expect(detection.conversion.algorithm == nil)
  }

  @Test func mlpSpeculatorByConfig() {
    let config: JSONValue = [
      "model_type": "mlp_speculator", "emb_dim": 64, "n_predict": 3, "vocab_size": 512,
    ]
    let detection = FormatDetector.detect(S.checkpoint([], config: config))
    #expect(detection.format == .mlpSpeculator)
    #expect(detection.evidence == ["config model_type \"mlp_speculator\"", "config n_predict 3"])
    #expect(detection.facts.hiddenSize == 64)
  }

  @Test func modelOptTrainingCheckpoint() {
    let target = S.llamaVerifier(layers: 2)
    let module = S.eagle3Layers(d2t: true).map { info in
      var renamed = info
      renamed.name = "eagle_module." + info.name
      return renamed
    }
    let state = CheckpointFile(
      path: "/d/modelopt_state.pth", name: "modelopt_state.pth", size: 1, kind: .torchZip)
    let detection = FormatDetector.detect(S.checkpoint(target + module, files: [S.safetensorsFile, state]))
    #expect(detection.format == .modelOptTraining)
    #expect(detection.evidence.contains("file modelopt_state.pth"))
    #expect(detection.facts.decoderLayers == 1)
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.conversion.reason?.contains("export_hf_checkpoint") == true)
  }

  @Test func plainLlamaVerifier() {
    let config = S.draftConfig(layers: 4)
    let detection = FormatDetector.detect(S.checkpoint(S.llamaVerifier(layers: 4), config: config))
    #expect(detection.format == .hfCausalLM)
    #expect(detection.confidence == 0.95)
    #expect(detection.conversion == .none(reason: "this is a base model, not a draft; pass it as --verifier"))
    #expect(detection.evidence[0] == "model.layers.0–3: 4 decoder layer(s), each with input_layernorm")
    #expect(detection.evidence.contains("config num_hidden_layers 4 matches"))
    #expect(detection.facts.hiddenSize == 64)
    #expect(detection.facts.vocabSize == 512)
    #expect(detection.facts.decoderLayers == 4)
    #expect(detection.facts.embeddingsPresent)
    #expect(detection.strippedPrefix == nil)
  }

  @Test func tiedVerifierWhoseNamesAllStartWithModel() {
    let detection = FormatDetector.detect(S.checkpoint(S.llamaVerifier(layers: 2, tied: true)))
    #expect(detection.format == .hfCausalLM)
    #expect(detection.evidence.contains("no lm_head.weight (tied to the embedding)"))
  }

  @Test func unknownTensors() {
    let detection = FormatDetector.detect(
      S.checkpoint(
        [S.tensor("encoder.weight", [3, 4]), S.tensor("decoder.bias", [4])], config: ["model_type": "t5"]))
    #expect(detection.format == .unknown)
    #expect(detection.confidence == 0)
    #expect(
      detection.evidence == [
        "2 tensors, none matching a known signature: decoder.bias [4], encoder.weight [3, 4]",
        "config model_type \"t5\"",
      ])
    #expect(detection.conversion.reason == "no known draft layout matched; name the layout with --algorithm")
    #expect(detection.conflict(withRequested: .eagle) == nil)
  }

  @Test func emptyCheckpointWithoutConfig() {
    let detection = FormatDetector.detect(S.checkpoint([]))
    #expect(detection.format == .unknown)
    #expect(detection.evidence == ["no tensors found", "no config.json"])
  }

  @Test func hostileNamesAndHugeShapesDoNotTrap() {
    let huge = Int.max / 2 + 1
    let tensors = [
      S.tensor("fc.weight", [huge, 1]),
      S.tensor("layers..self_attn.q_proj.weight", [1, huge]),
      S.tensor("layers.99999999999999999999999.input_layernorm.weight", [1]),
      S.tensor("layers.-1.mlp.up_proj.weight", [1, 1]),
      S.tensor("midlayer", [0]),
      S.tensor(".", []),
      S.tensor("", [3]),
    ]
    let config: JSONValue = ["hidden_size": .int(Int64.max), "target_hidden_size": 0, "vocab_size": -1]
    let detection = FormatDetector.detect(S.checkpoint(tensors, config: config))
    #expect(detection.format == .unknown)
    #expect(detection.facts.hiddenSize == huge)
    #expect(detection.facts.fcInputWidth == 1)
    #expect(detection.facts.decoderLayers == 0)
    #expect(detection.json()["facts"]?["hidden_size"] == .int(Int64(huge)))
  }

  @Test func everyFormatHasAStableIdAndTitle() {
    let ids = SourceFormat.allCases.map(\.rawValue)
    #expect(Set(ids).count == ids.count)
    #expect(ids.contains("eagle3-modelopt-v2"))
    #expect(SourceFormat.allCases.allSatisfy { !$0.title.isEmpty })
    #expect(SourceFormat.hassFusionBias.family == .eagle)
    #expect(SourceFormat.eagle3NeMo.family == .eagle3)
    #expect(SourceFormat.medusa.family == .other)
  }
}
