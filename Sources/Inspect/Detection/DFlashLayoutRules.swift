extension FormatDetector {
  /// Rule 6: a z-lab DFlash draft (`DFlashDraftModel`, z-lab/dflash `model/dflash.py`).
  ///
  /// The tensors decide: a top-level `fc.weight` [H, n·H] and `hidden_norm.weight` [H],
  /// `layers.N.*` decoders whose attention reads H (not EAGLE-3's 2H), and neither an
  /// embedding nor an `lm_head` (vLLM shares the verifier's). `dflash_config` or a DFlash
  /// architecture in config.json confirms it; DFlash2 (`candidate_selector.*`, per-layer
  /// `attention_conv` / `mlp_conv`) is told apart because it does not convert.
  static func dflashDraft(_ context: DetectionContext) -> Detection? {
    guard context.has("fc.weight"), context.has("hidden_norm.weight"), !context.has("lm_head.weight"),
      !context.has("embed_tokens.weight"), !context.has("layers.0.hidden_norm.weight")
    else { return nil }
    let hidden = context.rows("fc.weight")
    let projection = ["layers.0.self_attn.q_proj.weight", "layers.0.self_attn.qkv_proj.weight"].first(
      where: context.has)
    guard let projection, let hidden, context.columns(projection) == hidden else { return nil }

    var facts = DetectedFacts.derive(from: context, family: .dflash)
    facts.embeddingsPresent = false
    let layers = context.layerIndices()
    var evidence = [
      "\(fcText(context, hidden: hidden)) over tapped verifier states, \(context.described("hidden_norm.weight"))",
      "\(layers.count) decoder layer(s) layers.N.* whose attention reads H (\(context.described(projection)))",
      "no embed_tokens.weight and no lm_head.weight (the verifier's are shared)",
    ]
    if context.has("layers.0.self_attn.q_norm.weight") {
      evidence.append("\(context.described("layers.0.self_attn.q_norm.weight")) (Qwen3 attention)")
    }
    var notes: [String] = []
    let config = context.config
    let dflashConfig = config?.json["dflash_config"]
    if dflashConfig != nil { evidence.append("config has dflash_config") }
    if let text = context.architecturesText { evidence.append("config architectures \(text)") }
    if let block = config?.int("block_size") ?? dflashConfig?["block_size"]?.intValue {
      evidence.append("config block_size \(block)")
    } else {
      notes.append("no block_size in config.json or dflash_config: the converter needs it")
    }
    if let ids = dflashConfig?["target_layer_ids"]?.arrayValue {
      evidence.append("config dflash_config.target_layer_ids has \(ids.count) entries")
      if let width = facts.fcInputWidth, ids.count * hidden != width {
        notes.append(
          "fc.weight takes \(width / max(hidden, 1)) states but target_layer_ids lists \(ids.count)")
      }
    } else {
      notes.append(
        "no dflash_config.target_layer_ids: pass --algorithm-kwargs '{\"aux_hidden_state_layer_ids\": [...]}' "
          + "(never guess: the fc width is baked in)")
    }
    if dflashConfig?["mask_token_id"] == nil {
      notes.append("no dflash_config.mask_token_id: vLLM requires one")
    }
    if projection.hasSuffix("qkv_proj.weight") {
      evidence.append("fused qkv_proj (Laguna style): split into q/k/v on conversion")
    }

    let dflash2Signals =
      context.anyName(hasPrefix: "candidate_selector.")
      || context.firstName(hasSuffix: ".attention_conv.base_kernel") != nil
      || config?.architectures?.contains { $0.contains("DFlash2") } == true
    let declared =
      dflashConfig != nil || config?.architectures?.contains { $0.contains("DFlash") } == true
    if dflash2Signals {
      evidence.append("DFlash2 tensors or architecture (candidate_selector, attention_conv, DFlash2DraftModel)")
      return Detection(
        format: .dflash2ZLab, confidence: 0.9, signature: "fc + hidden_norm + H-wide layers, DFlash2 heads",
        evidence: evidence, notes: notes, facts: facts,
        conversion: .none(
          reason: "speculators has no DFlash2 converter (its dflash model has no candidate selector or "
            + "convolutions); serve the z-lab checkpoint directly or convert a DFlash draft"))
    }
    return Detection(
      format: .dflashZLab, confidence: declared ? 0.95 : 0.75,
      signature: "fc + hidden_norm + H-wide layers.N, no embedding or lm_head",
      evidence: evidence, notes: notes, facts: facts, conversion: .algorithm(.dflash))
  }
}
