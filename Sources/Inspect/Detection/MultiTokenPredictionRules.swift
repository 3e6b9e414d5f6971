extension FormatDetector {
  /// Where a verifier keeps its own multi-token-prediction layers, as vLLM loads them
  /// (`vllm/model_executor/models/deepseek_mtp.py`, `qwen3_next_mtp.py`, `mimo_mtp.py`).
  package enum MTPLayout: String, Sendable, Hashable, CaseIterable {
    /// DeepSeek-V3 / GLM-4.5: extra decoder layers `model.layers.{num_hidden_layers + i}.*`
    /// (`enorm`, `hnorm`, `eh_proj`, `shared_head`).
    case extraDecoderLayers = "model.layers.{num_hidden_layers+i}"
    /// Qwen3-Next / Qwen3.5: a separate `mtp.*` module (`mtp.fc`, `mtp.layers.N`, `mtp.norm`).
    case mtpModule = "mtp.*"
    /// MiMo: `model.mtp_layers.{i}.*`.
    case mtpLayers = "model.mtp_layers.{i}"
  }

  /// The MTP layers a causal LM's config promises: `num_nextn_predict_layers` (DeepSeek, GLM,
  /// MiMo, Qwen3-Next) or `mtp_num_hidden_layers` (Qwen3.5), top level or under `text_config`.
  package static func promisedMTPLayers(_ config: ModelConfig?) -> Int? {
    guard let config else { return nil }
    let count = config.int("num_nextn_predict_layers") ?? config.int("mtp_num_hidden_layers")
    return count.flatMap { $0 > 0 ? $0 : nil }
  }

  /// What a checkpoint's config promises and its tensors hold of MTP layers.
  package struct MTPCoverage: Sendable, Hashable {
    /// Layers the config promises (`nil` when it promises none).
    package var promised: Int?
    /// Layers found in the tensors.
    package var present: Int
    /// Where they were found.
    package var layout: MTPLayout?
  }

  /// The MTP coverage of `checkpoint` (tensor names and config only).
  package static func mtpCoverage(_ checkpoint: Checkpoint) -> MTPCoverage {
    let context = DetectionContext(checkpoint)
    let present = presentMTPLayers(context)
    return MTPCoverage(
      promised: promisedMTPLayers(context.config), present: present?.count ?? 0, layout: present?.layout)
  }

  /// The MTP layer indices present in the tensors, by layout: DeepSeek-style layer numbers
  /// past `num_hidden_layers`, `mtp.layers.N` (at least one when any `mtp.*` tensor exists),
  /// MiMo `model.mtp_layers.N`.
  static func presentMTPLayers(_ context: DetectionContext) -> (layout: MTPLayout, count: Int)? {
    if context.anyName(hasPrefix: "mtp.") {
      return (.mtpModule, max(1, context.layerIndices(under: "mtp.").count))
    }
    let mimo = context.layerIndices(component: "mtp_layers", under: "model.")
    if !mimo.isEmpty { return (.mtpLayers, mimo.count) }
    if let declared = context.config?.numHiddenLayers, declared >= 0 {
      let extra = context.layerIndices(under: "model.").filter { $0 >= declared }
      if !extra.isEmpty { return (.extraDecoderLayers, extra.count) }
    }
    return nil
  }

  /// Refines a causal-LM detection when the model carries (or its config promises) MTP
  /// layers: a verifier vLLM can serve with `speculative_config {"method": "mtp"}`.
  static func multiTokenPrediction(_ context: DetectionContext, base: Detection) -> Detection? {
    let promised = promisedMTPLayers(context.config)
    let present = presentMTPLayers(context)
    guard promised != nil || present != nil else { return nil }
    var evidence = base.evidence
    var notes = base.notes.filter { !$0.hasPrefix("config num_hidden_layers") }
    if let present {
      evidence.insert("\(present.count) MTP layer(s) at \(present.layout.rawValue)", at: 0)
    }
    if let promised {
      let key = context.config?.int("num_nextn_predict_layers") != nil
        ? "num_nextn_predict_layers" : "mtp_num_hidden_layers"
      evidence.append("config \(key) \(promised)")
      if (present?.count ?? 0) < promised {
        notes.append(
          "config promises \(promised) MTP layer(s) but the tensors hold \(present?.count ?? 0): "
            + "a quantized or stripped export; vLLM would load garbage or refuse (verify reports it)")
      }
    }
    let steps = promised ?? present?.count ?? 1
    notes.append(
      "vLLM serves it with speculative_config {\"method\": \"mtp\", \"num_speculative_tokens\": \(steps)}; "
        + "pass it as the model, not as a draft")
    var facts = base.facts
    facts.decoderLayers = max(0, facts.decoderLayers - (present?.layout == .extraDecoderLayers ? present?.count ?? 0 : 0))
    return Detection(
      format: .mtpVerifier, confidence: present != nil ? 0.9 : 0.7,
      signature: present.map { "causal LM with MTP layers at \($0.layout.rawValue)" }
        ?? "causal LM whose config promises MTP layers",
      evidence: evidence, notes: notes, facts: facts,
      conversion: .none(
        reason: "a verifier with its own MTP layers, not a draft: serve it with method mtp "
          + "(speculators' Python converter re-packs only Qwen3-Next/Qwen3.5 mtp.* layers)"),
      strippedPrefix: base.strippedPrefix)
  }
}
