extension FormatDetector {
  /// Rule 6: Speculators `eagle` tensor names (`fusion_fc`, `transformer.*`) without a
  /// Speculators config.
  static func speculatorsEagleNames(_ context: DetectionContext) -> Detection? {
    guard context.has("fusion_fc.weight"), context.anyName(hasPrefix: "transformer.") else { return nil }
    let facts = DetectedFacts.derive(from: context, family: .eagle)
    return Detection(
      format: .speculatorsEagle, confidence: 0.9,
      signature: "fusion_fc.weight and transformer.* tensors",
      evidence: [
        "\(fcText(context, name: "fusion_fc.weight", hidden: facts.hiddenSize)) and "
          + "\(context.names(hasPrefix: "transformer.").count) transformer.* tensors (Speculators eagle names)",
        context.config == nil ? "no config.json" : "config.json has no speculators_model_type",
      ],
      facts: facts,
      conversion: .none(
        reason: "the tensors already use Speculators eagle names but config.json is not a Speculators "
          + "config; restore the Speculators config.json instead of converting"),
      strippedPrefix: context.prefix)
  }

  /// The EAGLE-1 shape test: `fc.weight` is [H, 2H], and returns H.
  static func eagle1FusionHidden(_ context: DetectionContext) -> Int? {
    guard let shape = context.shape("fc.weight"), shape.count == 2,
      isMultiple(shape[1], of: shape[0], by: 2)
    else { return nil }
    return shape[0]
  }

  /// Rule 10: HASS with extra layernorms (Speculators research/hass).
  static func hassLayernorms(_ context: DetectionContext) -> Detection? {
    let trigger = ["embed_layernorm.weight", "post_embedding_layernorm.weight"].first(where: context.has)
    guard let trigger, let hidden = eagle1FusionHidden(context) else { return nil }
    let norms = ["embed_layernorm.weight", "hidden_layernorm.weight", "lm_head_layernorm.weight"]
    let present = norms.filter(context.has)
    var evidence = [
      "\(present.isEmpty ? trigger : present.joined(separator: ", ")) present (HASS extra RMSNorms)",
      fcText(context, hidden: hidden) + " (embedding ⊕ hidden state)",
    ]
    var notes: [String] = []
    var confidence = 0.9
    if trigger == "post_embedding_layernorm.weight" {
      evidence[0] = "post_embedding_layernorm.weight present (alias of embed_layernorm; no known producer)"
      confidence = 0.6
    } else if present.count < norms.count {
      notes.append(
        "missing \(norms.filter { !context.has($0) }.joined(separator: ", ")); research/hass writes all three"
      )
      confidence = 0.75
    }
    if context.has("layers.0.input_layernorm.weight") {
      notes.append("layers.0.input_layernorm.weight present; research/hass replaces it with Identity")
    }
    let facts = DetectedFacts.derive(from: context, family: .eagle)
    if facts.fusionBias { evidence.append("\(context.described("fc.bias")) present (fusion bias)") }
    return Detection(
      format: .hassLayernorms, confidence: confidence,
      signature: "embed_layernorm/hidden_layernorm/lm_head_layernorm, \(fcText(context, hidden: hidden))",
      evidence: evidence, notes: notes + configAgreementNotes(context, facts: facts), facts: facts,
      conversion: .algorithm(.eagle), strippedPrefix: context.prefix)
  }

  /// Rule 11: vLLM legacy EAGLE `add_para_norm` tensors (`enorm`, `hnorm`).
  static func vllmParaNorms(_ context: DetectionContext) -> Detection? {
    guard context.has("enorm.weight") || context.has("hnorm.weight"),
      let hidden = eagle1FusionHidden(context)
    else { return nil }
    var evidence = [
      ["enorm.weight", "hnorm.weight"].filter(context.has).joined(separator: ", ")
        + " present (vLLM add_para_norm)",
      fcText(context, hidden: hidden),
    ]
    if context.has("token_map") { evidence.append("\(context.described("token_map")) (absolute target ids)") }
    return Detection(
      format: .vllmLegacyEagle, confidence: 0.85, signature: "enorm/hnorm tensors, fc [H, 2H]",
      evidence: evidence, facts: DetectedFacts.derive(from: context, family: .eagle),
      conversion: .none(reason: vllmLegacyReason), strippedPrefix: context.prefix)
  }

  /// Rule 12: EAGLE-1/2 and official HASS (identical tensors; HASS told only by hints).
  static func eagle1Family(_ context: DetectionContext) -> Detection? {
    guard let hidden = eagle1FusionHidden(context) else { return nil }
    let layerIndices = context.layerIndices()
    guard let first = layerIndices.first else { return nil }
    let layer = "layers.\(first)."
    guard context.columns(layer + "self_attn.q_proj.weight") == hidden else { return nil }

    var evidence = [
      fcText(context, hidden: hidden) + " (token embedding ⊕ verifier hidden state)",
      "\(context.described(layer + "self_attn.q_proj.weight")): q_proj takes hidden \(hidden)",
    ]
    var notes: [String] = []
    var deviations: [String] = []
    if context.has(layer + "post_attention_layernorm.weight") {
      evidence.append("\(layer)post_attention_layernorm.weight present")
    } else {
      deviations.append("\(layer)post_attention_layernorm.weight is missing")
    }
    if context.has(layer + "input_layernorm.weight") {
      deviations.append("\(layer)input_layernorm.weight present; EAGLE skips the first layer's input norm")
    } else {
      evidence.append("no \(layer)input_layernorm.weight (EAGLE skips the first layer's input norm)")
    }
    for name in ["norm.weight", "lm_head.weight"] where context.has(name) {
      deviations.append("\(name) present; EAGLE-1 drafts use the verifier's head without a final norm")
    }
    if !deviations.isEmpty || first != 0 {
      if first != 0 { deviations.append("decoder layers start at \(first), not 0") }
      notes += deviations
    } else {
      evidence.append("no norm.weight and no lm_head.weight (the verifier's head is used)")
    }

    let facts = DetectedFacts.derive(from: context, family: .eagle)
    if facts.embeddingsPresent {
      evidence.append(
        "\(context.described("embed_tokens.weight")) present (official releases ship the embedding)")
    }
    if let declared = context.config?.bool("bias"), declared != facts.fusionBias {
      notes.append(
        "config bias \(declared) but fc.bias is \(facts.fusionBias ? "present" : "absent"); trusting the tensors"
      )
    }

    // EAGLE-1 vs official HASS: same tensors. HASS trains with a fusion bias and releases fp32.
    let fp32 = facts.weightsDType == .F32
    let hassInName = [context.checkpoint.location, context.checkpoint.directory]
      .contains { $0.lowercased().contains("hass") }
    var format = SourceFormat.eagle1
    var confidence = deviations.isEmpty ? 0.9 : 0.7
    var alternatives: [SourceFormat] = []
    if facts.fusionBias {
      evidence.append("\(context.described("fc.bias")) present (fusion bias)")
      if fp32 || hassInName {
        format = .hassFusionBias
        confidence = fp32 && hassInName ? 0.6 : 0.5
        if fp32 { evidence.append("fc.weight stored as F32 (official HASS releases are fp32)") }
        if hassInName { evidence.append("the path names HASS") }
        alternatives = [.eagle1]
        notes.append("EAGLE-1/2 and official HASS share every tensor; the HASS label rests on hints only")
      } else {
        confidence = min(confidence, 0.75)
        alternatives = [.hassFusionBias]
        notes.append(
          "fc.bias is also what official HASS has; "
            + "\(facts.weightsDType?.rawValue ?? "this") storage points to EAGLE"
        )
      }
    }
    let firstNorm =
      context.has(layer + "input_layernorm.weight")
      ? "" : ", no \(layer)input_layernorm"
    let signature = "\(fcText(context, hidden: hidden)), \(layer)q_proj in \(hidden)" + firstNorm
    return Detection(
      format: format, confidence: confidence, signature: signature, evidence: evidence,
      notes: notes + configAgreementNotes(context, facts: facts), alternatives: alternatives,
      facts: facts, conversion: .algorithm(.eagle), strippedPrefix: context.prefix)
  }
}
