extension ExpectedTensors {
  /// How optional parts of a decoder layer are decided: by config flags (Speculators) or not
  /// at all (raw drafts, whose configs carry no reliable flags).
  struct LayerPolicy {
    var attentionBias: Presence
    var mlpBias: Presence
    var qkNorm: Presence

    static func speculators(_ flags: [Flag: Bool]) -> LayerPolicy {
      LayerPolicy(
        attentionBias: .flag(.attentionBias, enabled: flags[.attentionBias] ?? false),
        mlpBias: .flag(.mlpBias, enabled: flags[.mlpBias] ?? false),
        qkNorm: .flag(.qkNorm, enabled: flags[.qkNorm] ?? false))
    }

    static let source = LayerPolicy(attentionBias: .optional, mlpBias: .optional, qkNorm: .optional)
  }

  /// Attention and MLP tensors of one decoder layer whose q/k/v take `inputWidth` features.
  static func decoderLayer(
    prefix: String, layer: Int?, inputWidth: Int, inputRule: String, geometry g: Geometry,
    policy: LayerPolicy
  ) -> [Tensor] {
    let qRows = g.attentionHeads * g.headDim
    let kvRows = g.keyValueHeads * g.headDim
    var out: [Tensor] = []
    func add(_ name: String, _ shape: [Int], _ presence: Presence = .required, _ rule: String) {
      out.append(Tensor(name: prefix + name, shapes: [shape], presence: presence, layer: layer, rule: rule))
    }
    let note = inputRule == "2H" ? " (the first layer takes embedding ⊕ fc output)" : ""
    add("self_attn.q_proj.weight", [qRows, inputWidth], .required, "[NH·HD, \(inputRule)]\(note)")
    add("self_attn.k_proj.weight", [kvRows, inputWidth], .required, "[KV·HD, \(inputRule)]\(note)")
    add("self_attn.v_proj.weight", [kvRows, inputWidth], .required, "[KV·HD, \(inputRule)]\(note)")
    add("self_attn.o_proj.weight", [g.hiddenSize, qRows], .required, "[H, NH·HD]")
    add("self_attn.q_proj.bias", [qRows], policy.attentionBias, "[NH·HD]")
    add("self_attn.k_proj.bias", [kvRows], policy.attentionBias, "[KV·HD]")
    add("self_attn.v_proj.bias", [kvRows], policy.attentionBias, "[KV·HD]")
    // Qwen3's attention_bias covers q/k/v only; Llama's covers o_proj too.
    add("self_attn.o_proj.bias", [g.hiddenSize], g.layerModelType == "qwen3" ? .optional : policy.attentionBias, "[H]")
    add("self_attn.q_norm.weight", [g.headDim], policy.qkNorm, "[HD] (Qwen3 attention)")
    add("self_attn.k_norm.weight", [g.headDim], policy.qkNorm, "[HD] (Qwen3 attention)")
    add("mlp.gate_proj.weight", [g.intermediateSize, g.hiddenSize], .required, "[I, H]")
    add("mlp.up_proj.weight", [g.intermediateSize, g.hiddenSize], .required, "[I, H]")
    add("mlp.down_proj.weight", [g.hiddenSize, g.intermediateSize], .required, "[H, I]")
    add("mlp.gate_proj.bias", [g.intermediateSize], policy.mlpBias, "[I]")
    add("mlp.up_proj.bias", [g.intermediateSize], policy.mlpBias, "[I]")
    add("mlp.down_proj.bias", [g.hiddenSize], policy.mlpBias, "[H]")
    add("post_attention_layernorm.weight", [g.hiddenSize], .required, "[H]")
    return out
  }

  static func norm(_ name: String, _ g: Geometry, _ presence: Presence, layer: Int? = nil) -> Tensor {
    Tensor(name: name, shapes: [[g.hiddenSize]], presence: presence, layer: layer, rule: "[H]")
  }

  /// Speculators `eagle` (`EagleSpeculator`, speculators `src/speculators/models/eagle.py`).
  static func eagleTable(geometry g: Geometry, flags: [Flag: Bool]) -> TensorSet {
    let h = g.hiddenSize
    let layernorms = Presence.flag(.layernorms, enabled: flags[.layernorms] ?? false)
    var tensors: [Tensor] = [
      Tensor(name: "fusion_fc.weight", shapes: [[h, 2 * h]], rule: "[H, 2H]: embedding ⊕ verifier hidden"),
      Tensor(
        name: "fusion_fc.bias", shapes: [[h]],
        presence: .flag(.fusionBias, enabled: flags[.fusionBias] ?? false),
        rule: "[H]"),
      norm("embedding_layernorm.weight", g, layernorms),
      norm("pre_lm_head_layernorm.weight", g, layernorms),
      norm("transformer.input_layernorm.weight", g, layernorms),
    ]
    tensors += decoderLayer(
      prefix: "transformer.", layer: 0, inputWidth: h, inputRule: "H", geometry: g,
      policy: .speculators(flags))
    return TensorSet(
      layout: .speculatorsEagle, geometry: g, flags: flags, tensors: tensors, layerPrefix: "transformer.",
      indexedLayers: false)
  }

  /// Speculators `eagle3`: the converter layout and the trained multi-layer layout.
  static func eagle3Table(geometry g: Geometry, flags: [Flag: Bool]) -> TensorSet {
    let h = g.hiddenSize
    let a = g.auxStateCount
    var tensors: [Tensor] = [
      Tensor(name: "embed_tokens.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(
        name: "fc.weight", shapes: [[h, a * g.targetHiddenSize], [h, a * h]],
        rule: "[H, A·TH] with A = \(a) aux hidden states"
          + (g.auxStateCountIsExplicit ? "" : " (eagle_aux_hidden_state_layer_ids absent)")),
      norm("norm.weight", g, .required),
      Tensor(name: "lm_head.weight", shapes: [[g.draftVocabSize, h]], rule: "[DV, H]"),
      Tensor(
        name: "d2t", shapes: [[g.draftVocabSize]], kind: .int64, presence: .vocabMap, rule: "[DV] int64"),
      Tensor(name: "t2d", shapes: [[g.vocabSize]], kind: .bool, presence: .vocabMap, rule: "[V] bool"),
      Tensor(
        name: "input_norm.weight", shapes: [[a * h], [a * g.targetHiddenSize]],
        presence: .flag(.normBeforeFC, enabled: flags[.normBeforeFC] ?? false), rule: "[A·H]"),
    ]
    let fcNorm = Presence.flag(.fcNorm, enabled: flags[.fcNorm] ?? false)
    for j in 0..<a {
      tensors.append(
        Tensor(
          name: "fc_norm.\(j).weight", shapes: [[h], [g.targetHiddenSize]], presence: fcNorm, rule: "[H]"))
    }
    for i in 0..<g.layerCount {
      let prefix = "layers.\(i)."
      let first = i == 0
      tensors += decoderLayer(
        prefix: prefix, layer: i, inputWidth: first ? 2 * h : h,
        inputRule: first ? "2H" : "H", geometry: g,
        policy: .speculators(flags))
      tensors.append(norm(prefix + "input_layernorm.weight", g, .required, layer: i))
      if first { tensors.append(norm(prefix + "hidden_norm.weight", g, .required, layer: i)) }
    }
    return TensorSet(
      layout: .speculatorsEagle3, geometry: g, flags: flags, tensors: tensors, layerPrefix: "layers.",
      indexedLayers: true)
  }

  /// Speculators `peagle` (parallel EAGLE-3): the eagle3 tensors plus `mask_hidden`, the learnt
  /// stand-in for the aux hidden states of positions drafted in parallel. speculators'
  /// `PEagleDraftModel` stores it as [1, 1, A·TH]; vLLM serves peagle as eagle3 with parallel
  /// drafting, loads it into a [1, A·TH] buffer and refuses a checkpoint without it
  /// (vllm/model_executor/models/llama_eagle3.py, `load_weights`).
  static func peagleTable(geometry g: Geometry, flags: [Flag: Bool]) -> TensorSet {
    let eagle3 = eagle3Table(geometry: g, flags: flags)
    let width = g.auxStateCount * g.targetHiddenSize
    let mask = Tensor(
      name: "mask_hidden", shapes: [[1, 1, width], [1, width], [width]],
      rule: "[1, 1, A·TH]: vLLM's parallel drafting requires it")
    return TensorSet(
      layout: eagle3.layout, geometry: g, flags: flags, tensors: eagle3.tensors + [mask],
      layerPrefix: eagle3.layerPrefix, indexedLayers: eagle3.indexedLayers)
  }

  /// Raw EAGLE-1/2 and HASS drafts (SafeAILab/EAGLE `eagle/model/cnets.py`).
  static func eagle1SourceTable(geometry g: Geometry) -> TensorSet {
    let h = g.hiddenSize
    var tensors: [Tensor] = [
      Tensor(name: "embed_tokens.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(name: "fc.weight", shapes: [[h, 2 * h]], rule: "[H, 2H]: embedding ⊕ verifier hidden"),
      Tensor(name: "fc.bias", shapes: [[h]], presence: .optional, rule: "[H]"),
      norm("embed_layernorm.weight", g, .optional),
      norm("post_embedding_layernorm.weight", g, .optional),
      norm("hidden_layernorm.weight", g, .optional),
      norm("lm_head_layernorm.weight", g, .optional),
    ]
    for i in 0..<g.layerCount {
      let prefix = "layers.\(i)."
      tensors += decoderLayer(
        prefix: prefix, layer: i, inputWidth: h, inputRule: "H", geometry: g, policy: .source)
      // Layer 0 replaces its input norm by the identity; later layers keep theirs.
      tensors.append(norm(prefix + "input_layernorm.weight", g, i == 0 ? .optional : .required, layer: i))
    }
    return TensorSet(
      layout: .eagle1Source, geometry: g, flags: [:], tensors: tensors, layerPrefix: "layers.",
      indexedLayers: true)
  }

  /// Raw EAGLE-3 drafts: `midlayer.*` (SafeAILab, SpecForge, ModelOpt v1) or `layers.N.*`
  /// (ModelOpt v2); `docs/formats.md`.
  static func eagle3SourceTable(geometry g: Geometry, layout: Layout) -> TensorSet {
    let h = g.hiddenSize
    let a = g.auxStateCount
    var tensors: [Tensor] = [
      Tensor(name: "embed_tokens.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(
        name: "fc.weight", shapes: [[h, a * g.targetHiddenSize], [h, a * h]],
        rule: "[H, A·TH] with A = \(a) aux hidden states"),
      norm("norm.weight", g, .required),
      // ModelOpt ships the verifier's head when the draft has none: [V, H].
      Tensor(name: "lm_head.weight", shapes: [[g.draftVocabSize, h], [g.vocabSize, h]], rule: "[DV, H]"),
      Tensor(
        name: "d2t", shapes: [[g.draftVocabSize]], kind: .int64, presence: .vocabMap, rule: "[DV] int64"),
      Tensor(name: "t2d", shapes: [[g.vocabSize]], kind: .bool, presence: .vocabMap, rule: "[V] bool"),
    ]
    for j in 0..<a {
      tensors.append(
        Tensor(
          name: "fc_norm.\(j).weight", shapes: [[g.targetHiddenSize], [h]], presence: .optional, rule: "[TH]")
      )
    }
    let midlayer = layout == .eagle3MidlayerSource
    let layers = midlayer ? 1 : g.layerCount
    for i in 0..<layers {
      let prefix = midlayer ? "midlayer." : "layers.\(i)."
      let first = i == 0
      tensors += decoderLayer(
        prefix: prefix, layer: i, inputWidth: first ? 2 * h : h,
        inputRule: first ? "2H" : "H", geometry: g, policy: .source)
      tensors.append(norm(prefix + "input_layernorm.weight", g, .required, layer: i))
      if first { tensors.append(norm(prefix + "hidden_norm.weight", g, .required, layer: i)) }
    }
    return TensorSet(
      layout: layout, geometry: g, flags: [:], tensors: tensors,
      layerPrefix: midlayer ? "midlayer." : "layers.",
      indexedLayers: !midlayer)
  }

  /// Raw output of Speculators `research/eagle3` (`docs/formats.md`): the decoder's norms sit
  /// at the top level (`hidden_norm`, `input_layernorm`; `lm_head_layernorm` is the final
  /// norm) and `layers.0` has no input norm.
  static func eagle3ResearchTable(geometry g: Geometry) -> TensorSet {
    let h = g.hiddenSize
    var tensors: [Tensor] = [
      Tensor(name: "embed_tokens.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(
        name: "fc.weight", shapes: [[h, g.auxStateCount * g.targetHiddenSize], [h, g.auxStateCount * h]],
        rule: "[H, A·TH] with A = \(g.auxStateCount) aux hidden states"),
      norm("hidden_norm.weight", g, .required),
      norm("input_layernorm.weight", g, .required),
      norm("lm_head_layernorm.weight", g, .required),
      Tensor(name: "lm_head.weight", shapes: [[g.draftVocabSize, h]], rule: "[DV, H]"),
      Tensor(
        name: "d2t", shapes: [[g.draftVocabSize]], kind: .int64, presence: .vocabMap, rule: "[DV] int64"),
      Tensor(name: "t2d", shapes: [[g.vocabSize]], kind: .bool, presence: .vocabMap, rule: "[V] bool"),
    ]
    tensors += decoderLayer(
      prefix: "layers.0.", layer: 0, inputWidth: 2 * h, inputRule: "2H", geometry: g, policy: .source)
    return TensorSet(
      layout: .eagle3ResearchSource, geometry: g, flags: [:], tensors: tensors, layerPrefix: "layers.",
      indexedLayers: true)
  }
}
