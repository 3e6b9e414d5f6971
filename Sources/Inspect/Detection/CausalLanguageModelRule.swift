extension FormatDetector {
  /// A plain Hugging Face causal LM (a verifier): `<p>layers.N.*` decoder layers that all have
  /// `input_layernorm` and take hidden-wide inputs, a final `<p>norm.weight`, and no `fc`.
  static func causalLanguageModel(_ context: DetectionContext) -> Detection? {
    let fcName = TensorNamePattern("fc.weight")
    let fcSuffix = TensorNamePattern(".fc.weight")
    let mtpModule = TensorNamePattern("mtp.")  // Qwen3-Next's own MTP block has an fc
    guard
      !context.names.contains(where: {
        (fcName.isEqual(to: $0) || fcSuffix.isSuffix(of: $0)) && !mtpModule.isPrefix(of: $0)
      }),
      let scope = firstDecoderScope(context)
    else { return nil }
    let layers = context.layerIndices(under: scope)
    guard !layers.isEmpty,
      let hidden = context.rows(scope + "norm.weight"),
      layers.allSatisfy({ context.has("\(scope)layers.\($0).input_layernorm.weight") }),
      context.columns("\(scope)layers.\(layers[0]).self_attn.q_proj.weight") == hidden
    else { return nil }

    let range0 = layers.count == 1 ? "\(layers[0])" : "\(layers[0])–\(layers[layers.count - 1])"
    var evidence = [
      "\(scope)layers.\(range0): \(layers.count) decoder layer(s), each with input_layernorm",
      "\(context.described(scope + "norm.weight")) (final norm), no fc.weight",
    ]
    var facts = DetectedFacts.derive(from: context, family: .other)
    facts.hiddenSize = hidden
    facts.decoderLayers = layers.count
    if let embed = ["\(scope)embed_tokens.weight"].first(where: context.has) {
      evidence.append("\(context.described(embed)) (token embedding)")
      facts.embeddingsPresent = true
      facts.vocabSize = context.rows(embed) ?? facts.vocabSize
    }
    if context.has("lm_head.weight") {
      evidence.append("\(context.described("lm_head.weight")) (full-vocabulary head)")
    } else {
      evidence.append("no lm_head.weight (tied to the embedding)")
    }
    var confidence = 0.9
    var notes: [String] = []
    if let text = context.architecturesText {
      evidence.append("config architectures \(text)")
      if context.config?.architectures?.contains(where: { $0.hasSuffix("ForCausalLM") }) == true {
        confidence = 0.95
      }
    }
    if let declared = context.config?.numHiddenLayers {
      if declared == layers.count {
        evidence.append("config num_hidden_layers \(declared) matches")
      } else {
        notes.append("config num_hidden_layers \(declared) but \(layers.count) layers in the tensors")
      }
    }
    let base = Detection(
      format: .hfCausalLM, confidence: confidence,
      signature: "\(scope)layers.* with input_layernorm, \(scope)norm.weight, no fc.weight",
      evidence: evidence, notes: notes, facts: facts, conversion: .none(reason: notADraftReason),
      strippedPrefix: context.prefix)
    return multiTokenPrediction(context, base: base) ?? base
  }

  private static let qProjSuffix = Array(".self_attn.q_proj.weight".utf8)

  /// ``decoderScope(_:)`` of the first name (in order) that has one.
  static func firstDecoderScope(_ context: DetectionContext) -> String? {
    var scope: String?
    _ = context.names.firstIndex { name in
      // The byte test first: only a name ending in the q_proj suffix becomes a String.
      guard name.count > qProjSuffix.count, TensorNamePattern.hasBytes(name, endingWith: qProjSuffix) else {
        return false
      }
      // A Qwen3-Next `mtp.layers.N` block is not the model's decoder.
      scope = decoderScope(String(decoding: name, as: UTF8.self)).flatMap { $0.hasPrefix("mtp.") ? nil : $0 }
      return scope != nil
    }
    return scope
  }

  /// For `<scope>layers.N.self_attn.q_proj.weight`, the `<scope>` part (possibly empty).
  static func decoderScope(_ name: String) -> String? {
    guard name.utf8.count > qProjSuffix.count, name.utf8.suffix(qProjSuffix.count).elementsEqual(qProjSuffix)
    else { return nil }
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 5, parts.suffix(3) == ["self_attn", "q_proj", "weight"],
      parts[parts.count - 5] == "layers", Int(parts[parts.count - 4]) != nil
    else { return nil }
    return parts.prefix(parts.count - 5).map { $0 + "." }.joined()
  }
}
