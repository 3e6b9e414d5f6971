extension FormatDetector {
  /// `eagle_config` keys only ModelOpt writes.
  static let modelOptEagleConfigKeys: Set<String> = [
    "use_input_layernorm_in_first_layer", "use_last_layernorm", "use_mtp_layernorm",
    "next_layer_regular", "parallel_draft_step", "parallel_draft_heads_num_layers",
  ]
  /// `eagle_config` keys SpecForge writes (ModelOpt writes them too, plus its own).
  static let specForgeEagleConfigKeys: Set<String> = [
    "eagle_aux_hidden_state_layer_ids", "use_aux_hidden_state",
  ]

  /// Label confidence by the SafeAILab-vs-SpecForge score margin (0, 1, 2, 3, 4 or more).
  static let producerConfidence = [0.5, 0.55, 0.6, 0.7, 0.8]

  /// A producer label for an EAGLE-3 layout, with the signals behind it.
  struct ProducerVerdict {
    var format: SourceFormat
    var confidence: Double
    var evidence: [String]
    var notes: [String] = []
    var alternatives: [SourceFormat] = []
  }

  /// Rule 7: the `midlayer.*` EAGLE-3 layout (SafeAILab, SpecForge, ModelOpt v1).
  static func eagle3Midlayer(_ context: DetectionContext) -> Detection? {
    let midlayerNames = context.names(hasPrefix: "midlayer.")
    guard !midlayerNames.isEmpty else { return nil }
    let facts = DetectedFacts.derive(from: context, family: .eagle3)
    let numbered = !context.layerIndices(component: "midlayer").isEmpty
    let firstLayer = numbered ? "midlayer.\(context.layerIndices(component: "midlayer")[0])." : "midlayer."
    var layout = ["\(midlayerNames.count) midlayer.* tensors (EAGLE-3 naming)"]
    layout += eagle3ShapeEvidence(context, facts: facts, layerPrefix: firstLayer)
    let producer = eagle3MidlayerProducer(context, facts: facts)
    return eagle3Detection(
      context, facts: facts, producer: producer, layoutEvidence: layout,
      signature: "midlayer.* tensors, \(fcText(context, hidden: facts.hiddenSize))")
  }

  /// Rule 8: EAGLE-3 with `layers.N.*` naming (`layers.0.hidden_norm`, q_proj over 2H):
  /// ModelOpt v2, NeMo, or an unidentified producer.
  static func eagle3LayerNames(_ context: DetectionContext) -> Detection? {
    guard context.has("layers.0.hidden_norm.weight") else { return nil }
    let facts = DetectedFacts.derive(from: context, family: .eagle3)
    if let hidden = facts.hiddenSize, let inputs = context.columns("layers.0.self_attn.q_proj.weight"),
      !isMultiple(inputs, of: hidden, by: 2)
    {
      return nil
    }
    var layout = ["\(context.described("layers.0.hidden_norm.weight")) (EAGLE-3 fused-input norm)"]
    layout += eagle3ShapeEvidence(context, facts: facts, layerPrefix: "layers.0.")

    let modelOptKeys = context.eagleConfigKeys.filter(modelOptEagleConfigKeys.contains)
    let speculatorsKeys = ["speculators_config", "transformer_layer_config"].filter {
      context.config?.json[$0] != nil
    }
    var producer: ProducerVerdict
    if !modelOptKeys.isEmpty {
      producer = ProducerVerdict(
        format: .eagle3ModelOptV2, confidence: 0.85,
        evidence: ["config eagle_config has ModelOpt keys: \(modelOptKeys.joined(separator: ", "))"])
    } else if context.prefix == "model." {
      producer = ProducerVerdict(
        format: .eagle3NeMo, confidence: 0.75,
        evidence: ["every tensor name except lm_head.* starts with model. (NeMo AutoModel naming)"],
        alternatives: [.eagle3Layers])
    } else if !speculatorsKeys.isEmpty {
      return Detection(
        format: .speculatorsEagle3, confidence: 0.7,
        signature: "layers.0.hidden_norm.weight with Speculators config keys",
        evidence: layout + [
          "config has \(speculatorsKeys.joined(separator: ", ")) but no speculators_model_type"
        ],
        notes: ["config.json lacks speculators_model_type, which speculators and vLLM require"],
        facts: facts,
        conversion: .none(
          reason: "already in the Speculators eagle3 layout; add speculators_model_type to config.json "
            + "instead of converting"),
        strippedPrefix: context.prefix)
    } else if !facts.t2dPresent && !facts.embeddingsPresent {
      producer = ProducerVerdict(
        format: .eagle3ModelOptV2, confidence: 0.65,
        evidence: ["no t2d and no embed_tokens.weight (ModelOpt exports write neither)"],
        alternatives: [.eagle3Layers])
      if context.config?.architectures?.contains("LlamaForCausalLMEagle3") == true {
        producer.evidence.append(
          "config architectures \(context.architecturesText ?? "") (ModelOpt's export name)")
        producer.confidence = 0.7
      }
    } else {
      var evidence: [String] = []
      if facts.t2dPresent { evidence.append("t2d present (ModelOpt never writes it)") }
      if facts.embeddingsPresent { evidence.append("embed_tokens.weight present (ModelOpt never writes it)") }
      producer = ProducerVerdict(
        format: .eagle3Layers, confidence: 0.6,
        evidence: evidence + ["no Speculators or ModelOpt config keys: producer not identified"],
        alternatives: [.speculatorsEagle3])
    }
    if facts.t2dPresent, producer.format == .eagle3ModelOptV2 {
      producer.notes.append("t2d present although ModelOpt exports never write it")
    }
    return eagle3Detection(
      context, facts: facts, producer: producer, layoutEvidence: layout,
      signature: "layers.0.hidden_norm.weight, \(fcText(context, hidden: facts.hiddenSize))")
  }

  /// Rule 9: raw output of Speculators' research/eagle3 trainer.
  static func eagle3SpeculatorsResearch(_ context: DetectionContext) -> Detection? {
    guard context.has("hidden_norm.weight"), context.has("lm_head_layernorm.weight"),
      let hidden = context.rows("fc.weight"), hidden > 0,
      let inputs = context.columns("fc.weight"), inputs % hidden == 0, inputs / hidden >= 3
    else { return nil }
    var facts = DetectedFacts.derive(from: context, family: .eagle3)
    facts.hiddenSize = hidden
    let topLevelNorms = ["hidden_norm.weight", "input_layernorm.weight", "lm_head_layernorm.weight"]
    var evidence = [
      "top-level \(topLevelNorms.filter(context.has).joined(separator: ", ")) (research/eagle3 names)",
      fcText(context, hidden: hidden),
    ]
    if let disguised = context.checkpoint.weightFiles.first(where: {
      $0.kind == .torchZip && $0.name.hasSuffix(".safetensors")
    }) {
      evidence.append("\(disguised.name) is a torch zip despite its name (the research trainer's torch.save)")
    }
    var notes: [String] = []
    if !facts.d2tPresent {
      notes.append("no d2t/t2d: the research trainer keeps them in separate .npy files")
    }
    return Detection(
      format: .eagle3SpeculatorsResearch, confidence: 0.9,
      signature: "top-level hidden_norm and lm_head_layernorm, \(fcText(context, hidden: hidden))",
      evidence: evidence, notes: notes, facts: facts,
      conversion: .none(
        reason: "the research/eagle3 trainer's raw output needs its own renames and "
          + "norm_before_residual=true; it is not an input of the eagle3 converter"),
      strippedPrefix: context.prefix)
  }

  /// Shape evidence shared by both EAGLE-3 namings: fc width and q_proj over 2H.
  static func eagle3ShapeEvidence(
    _ context: DetectionContext, facts: DetectedFacts, layerPrefix: String
  ) -> [String] {
    var evidence: [String] = []
    if context.has("fc.weight") {
      let text = fcText(
        context, hidden: facts.targetHiddenSize ?? facts.hiddenSize,
        unit: facts.targetHiddenSize == nil ? "hidden" : "target_hidden_size")
      evidence.append(text + " (tapped verifier states)")
    }
    let query = layerPrefix + "self_attn.q_proj.weight"
    if let inputs = context.columns(query), let hidden = facts.hiddenSize,
      isMultiple(inputs, of: hidden, by: 2)
    {
      evidence.append("\(context.described(query)): q_proj takes 2×hidden (embedding ⊕ fused state)")
    }
    for name in ["lm_head.weight", "d2t", "t2d", "embed_tokens.weight"] where context.has(name) {
      evidence.append("\(context.describedWithDType(name)) present")
    }
    let qNorm = layerPrefix + "self_attn.q_norm.weight"
    if context.has(qNorm) {
      evidence.append("\(context.described(qNorm)): Qwen3 attention (vLLM runs Eagle3Qwen3ForCausalLM)")
    }
    if context.has("fc_norm.0.weight") {
      evidence.append("\(context.described("fc_norm.0.weight")) and its siblings (EAGLE-3.1 fc_norm)")
    }
    if context.has("input_norm.weight") {
      evidence.append("\(context.described("input_norm.weight")) (EAGLE-3.1 norm_before_fc)")
    }
    return evidence
  }

  /// The tie-break (`docs/formats.md`) between SafeAILab, SpecForge and ModelOpt v1 for the `midlayer.*` layout
  /// (also used for config-only guesses).
  static func eagle3MidlayerProducer(_ context: DetectionContext, facts: DetectedFacts) -> ProducerVerdict {
    let modelOptKeys = context.eagleConfigKeys.filter(modelOptEagleConfigKeys.contains)
    let architectures = context.config?.architectures ?? []
    let plainArchitecture =
      !architectures.isEmpty
      && architectures.allSatisfy { $0.hasSuffix("ForCausalLM") && !$0.lowercased().contains("eagle") }
    let eagle3Architecture = architectures.contains("LlamaForCausalLMEagle3")
    let numbered = context.layerIndices(component: "midlayer")
    let haveTensors = !context.names.isEmpty

    if !modelOptKeys.isEmpty || numbered.count > 1 {
      var verdict = ProducerVerdict(format: .eagle3ModelOptV1, confidence: 0.8, evidence: [])
      if !modelOptKeys.isEmpty {
        verdict.evidence.append(
          "config eagle_config has ModelOpt keys: \(modelOptKeys.joined(separator: ", "))")
      }
      if numbered.count > 1 {
        verdict.evidence.append(
          "numbered midlayer.N.* layers (\(numbered.count)): ModelOpt's Dec 2025 multi-layer export")
      }
      if facts.t2dPresent {
        verdict.notes.append("t2d present although ModelOpt exports never write it")
        verdict.confidence = 0.65
      }
      return verdict
    }
    if haveTensors && !facts.t2dPresent && !facts.embeddingsPresent && !context.hasTorchZipWeights {
      var verdict = ProducerVerdict(
        format: .eagle3ModelOptV1, confidence: 0.6,
        evidence: [
          "no t2d and no embed_tokens.weight in safetensors (ModelOpt exports write neither; "
            + "SafeAILab and SpecForge write t2d)"
        ],
        alternatives: [.eagle3SafeAILab, .eagle3SpecForge])
      if eagle3Architecture {
        verdict.evidence.append(
          "config architectures \(context.architecturesText ?? "") (ModelOpt's export name)")
        verdict.confidence = 0.65
      } else if plainArchitecture {
        verdict.notes.append(
          "config architectures \(context.architecturesText ?? "") is SafeAILab's name, not ModelOpt's")
        verdict.confidence = 0.5
      }
      return verdict
    }

    var safeAILab = 0
    var specForge = 0
    var evidence: [String] = []
    if plainArchitecture {
      safeAILab += 2
      evidence.append(
        "config architectures \(context.architecturesText ?? "") (SafeAILab keeps the plain Llama name)")
    }
    if eagle3Architecture {
      specForge += 2
      evidence.append("config architectures \(context.architecturesText ?? "") (SpecForge/SGLang name)")
    }
    if context.hasTorchZipWeights {
      safeAILab += 2
      evidence.append(
        "weights in a torch zip (.bin): SafeAILab releases are .bin, SpecForge writes safetensors")
    } else if context.hasSafetensorsWeights {
      specForge += 1
      evidence.append("weights in safetensors: SpecForge writes safetensors (SafeAILab releases are .bin)")
    }
    if facts.embeddingsPresent {
      if facts.targetHiddenSize == nil {
        specForge += 2
        evidence.append("embed_tokens.weight present: SpecForge before Aug 2025 saved it; SafeAILab does not")
      } else {
        evidence.append(
          "embed_tokens.weight present with target_hidden_size in config (both producers then ship it)")
      }
    }
    let fcNorms = context.names(hasPrefix: "fc_norm.")
    if !fcNorms.isEmpty {
      specForge += 2
      evidence.append("\(fcNorms.count) fc_norm.* tensors (SpecForge's EAGLE-3.1 option)")
    }
    let specForgeConfigKeys = ["fc_norm", "norm_output"].filter { context.config?.json[$0] != nil }
    if !specForgeConfigKeys.isEmpty {
      specForge += 1
      evidence.append("config keys \(specForgeConfigKeys.joined(separator: ", ")) (SpecForge options)")
    }
    let eagleKeys = context.eagleConfigKeys
    if !eagleKeys.isEmpty, eagleKeys.allSatisfy(specForgeEagleConfigKeys.contains) {
      specForge += 1
      evidence.append("config eagle_config holds only \(eagleKeys.joined(separator: ", ")) (SpecForge)")
    }

    let winner: SourceFormat = specForge > safeAILab ? .eagle3SpecForge : .eagle3SafeAILab
    let margin = abs(specForge - safeAILab)
    var verdict = ProducerVerdict(
      format: winner, confidence: producerConfidence[min(margin, producerConfidence.count - 1)],
      evidence: evidence,
      alternatives: [winner == .eagle3SafeAILab ? .eagle3SpecForge : .eagle3SafeAILab])
    if margin == 0 {
      verdict.notes.append("SafeAILab and SpecForge write the same tensors and nothing here tells them apart")
    }
    return verdict
  }

  /// Assembles an EAGLE-3 detection: layout evidence, producer, vocab-map checks, conversion.
  static func eagle3Detection(
    _ context: DetectionContext, facts: DetectedFacts, producer: ProducerVerdict,
    layoutEvidence: [String], signature: String
  ) -> Detection {
    var notes = producer.notes
    var conversion = ImpliedConversion.algorithm(.eagle3)
    let headRows = context.rows("lm_head.weight")
    if !facts.d2tPresent && !facts.t2dPresent {
      if let headRows, let vocab = facts.vocabSize, headRows < vocab {
        let reason =
          "lm_head.weight has \(headRows) rows but the target vocabulary has \(vocab) and there is no d2t "
          + "to map draft ids to target ids"
        notes.append(reason + "; vLLM would read draft id i as target id i")
        conversion = .none(reason: reason)
      } else if let headRows, let vocab = facts.vocabSize, headRows == vocab {
        notes.append("no d2t/t2d: the head covers the full vocabulary (\(vocab)), so none are needed")
      } else {
        notes.append(
          "no d2t/t2d and the target vocabulary is unknown: check lm_head rows against the verifier")
      }
    } else if facts.d2tPresent && !facts.t2dPresent {
      notes.append("d2t without t2d: runtimes do not need t2d, and it can be derived from d2t")
    } else if !facts.d2tPresent && facts.t2dPresent {
      notes.append("t2d without d2t: d2t can be derived from t2d (the i-th kept target id minus i)")
    }
    if let headRows, let d2tRows = context.rows("d2t"), headRows != d2tRows {
      notes.append("lm_head.weight has \(headRows) rows but d2t has \(d2tRows) entries")
    }
    if !context.has("fc.weight") {
      notes.append("fc.weight is missing")
    }
    return Detection(
      format: producer.format, confidence: producer.confidence, signature: signature,
      evidence: layoutEvidence + producer.evidence,
      notes: notes + configAgreementNotes(context, facts: facts),
      alternatives: producer.alternatives, facts: facts, conversion: conversion,
      strippedPrefix: context.prefix)
  }
}
