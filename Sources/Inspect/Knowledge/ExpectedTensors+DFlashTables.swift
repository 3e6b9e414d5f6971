extension ExpectedTensors {
  /// The DFlash family member a Speculators config declares, with the sizes of its extra heads
  /// (vLLM `qwen3_dflash2.py`, `qwen3_dspark.py`; speculators `models/dflash`, `models/dspark`).
  package enum DFlashVariant: Sendable, Hashable {
    /// Plain DFlash.
    case dflash
    /// DFlash2: per-layer grouped convolutions (`attention_conv`, `mlp_conv`) of
    /// `conv_kernel_size` taps over groups of `conv_group_size`, and a candidate selector of
    /// rank `selector_rank`.
    case dflash2(taps: Int, groupSize: Int, selectorRank: Int)
    /// DSpark: a Markov logit-bias head of rank `markov_rank` and an optional confidence head.
    case dspark(markovRank: Int, confidenceHead: Bool, confidenceWithMarkov: Bool)

    /// The variant of `type` with the sizes `model` gives (speculators' defaults otherwise).
    init(_ type: String, _ model: ModelConfig) {
      func positive(_ key: String, _ fallback: Int) -> Int {
        ConfigBounds.checked(key, model.json[key]) ?? fallback
      }
      switch type {
      case "dflash2":
        self = .dflash2(
          taps: positive("conv_kernel_size", 2), groupSize: positive("conv_group_size", 16),
          selectorRank: positive("selector_rank", 256))
      case "dspark":
        self = .dspark(
          markovRank: positive("markov_rank", 256),
          confidenceHead: model.json["enable_confidence_head"]?.boolValue ?? false,
          confidenceWithMarkov: model.json["confidence_head_with_markov"]?.boolValue ?? false)
      default:
        self = .dflash
      }
    }
  }

  /// Speculators `dflash` / `dflash2` / `dspark`: `fc` [H, A·TH] over the aux states,
  /// `hidden_norm`, `norm`, Qwen3 decoder layers reading H, the variant's heads; the embedding
  /// and `lm_head` are optional (vLLM shares the verifier's when absent).
  static func dflashTable(geometry g: Geometry, flags: [Flag: Bool], variant: DFlashVariant) -> TensorSet {
    var tensors = dflashCommon(geometry: g, policy: .speculators(flags), fusedQKV: false)
    let h = g.hiddenSize
    switch variant {
    case .dflash:
      break
    case .dflash2(let taps, let groupSize, let rank):
      let groups = groupSize > 0 && h % groupSize == 0 ? h / groupSize : 0
      for i in 0..<g.layerCount {
        for conv in ["attention_conv", "mlp_conv"] {
          let prefix = "layers.\(i).\(conv)."
          tensors.append(
            Tensor(name: prefix + "base_kernel", shapes: [[2, taps, h]], layer: i, rule: "[2, taps, H]"))
          tensors.append(
            Tensor(
              name: prefix + "kernel_projection.weight", shapes: [[2 * taps * groups, h]], layer: i,
              rule: "[2·taps·H/conv_group_size, H]"))
        }
      }
      tensors.append(Tensor(name: "candidate_selector.predecessor_codebook", shapes: [[g.vocabSize, rank]], rule: "[V, R]"))
      tensors.append(Tensor(name: "candidate_selector.successor_codebook", shapes: [[g.vocabSize, rank]], rule: "[V, R]"))
      tensors.append(Tensor(name: "candidate_selector.hidden_projection.weight", shapes: [[rank, h]], rule: "[R, H]"))
    case .dspark(let rank, let confidence, let withMarkov):
      tensors.append(Tensor(name: "markov_head.markov_w1.weight", shapes: [[g.vocabSize, rank]], rule: "[V, R]"))
      tensors.append(Tensor(name: "markov_head.markov_w2.weight", shapes: [[g.draftVocabSize, rank]], rule: "[DV, R]"))
      tensors.append(
        Tensor(
          name: "confidence_head.proj.weight", shapes: [[1, withMarkov ? h + rank : h]],
          presence: confidence ? .required : .optional,
          rule: withMarkov ? "[1, H+R] (enable_confidence_head)" : "[1, H] (enable_confidence_head)"))
    }
    return TensorSet(
      layout: .speculatorsDFlash, geometry: g, flags: flags, tensors: tensors, layerPrefix: "layers.",
      indexedLayers: true)
  }

  /// A raw z-lab DFlash draft (`DFlashDraftModel`): the `dflash` tensors with optional q/k/v
  /// biases and norms, or one fused `qkv_proj` per layer (Laguna) with its `g_proj` gate.
  static func dflashSourceTable(geometry g: Geometry) -> TensorSet {
    let tensors = dflashCommon(geometry: g, policy: .source, fusedQKV: true)
    return TensorSet(
      layout: .dflashSource, geometry: g, flags: [:], tensors: tensors, layerPrefix: "layers.", indexedLayers: true)
  }

  private static func dflashCommon(geometry g: Geometry, policy: LayerPolicy, fusedQKV: Bool) -> [Tensor] {
    let h = g.hiddenSize
    let a = g.auxStateCount
    var tensors: [Tensor] = [
      Tensor(name: "embed_tokens.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(name: "lm_head.weight", shapes: [[g.draftVocabSize, h]], presence: .optional, rule: "[DV, H]"),
      Tensor(
        name: "fc.weight", shapes: [[h, a * g.targetHiddenSize]],
        rule: "[H, A·TH] with A = \(a) aux hidden states"
          + (g.auxStateCountIsExplicit ? "" : " (aux layer ids absent)")),
      norm("hidden_norm.weight", g, .required),
      norm("norm.weight", g, .required),
      Tensor(name: "d2t", shapes: [[g.draftVocabSize]], kind: .int64, presence: .vocabMap, rule: "[DV] int64"),
      Tensor(name: "t2d", shapes: [[g.vocabSize]], kind: .bool, presence: .vocabMap, rule: "[V] bool"),
    ]
    for i in 0..<g.layerCount {
      let prefix = "layers.\(i)."
      var layer = decoderLayer(
        prefix: prefix, layer: i, inputWidth: h, inputRule: "H", geometry: g, policy: policy)
      // vLLM's DFlash attention gives o_proj a bias whenever attention_bias is set (unlike
      // Qwen3's own attention): without the tensor it runs an uninitialised bias.
      if let index = layer.firstIndex(where: { $0.name == prefix + "self_attn.o_proj.bias" }) {
        layer[index].presence = policy.attentionBias
      }
      if fusedQKV {
        // Either q/k/v or one fused projection: each side optional, the converter checks the pair.
        let split = Set(["q_proj", "k_proj", "v_proj"].map { prefix + "self_attn.\($0).weight" })
        for index in layer.indices where split.contains(layer[index].name) { layer[index].presence = .optional }
        let rows = (g.attentionHeads + 2 * g.keyValueHeads) * g.headDim
        layer.append(
          Tensor(
            name: prefix + "self_attn.qkv_proj.weight", shapes: [[rows, h]], presence: .optional, layer: i,
            rule: "[(NH+2·KV)·HD, H] (fused, Laguna)"))
        layer.append(
          Tensor(
            name: prefix + "self_attn.g_proj.weight", shapes: [[g.attentionHeads * g.headDim, h]],
            presence: .optional, layer: i, rule: "[NH·HD, H] (Laguna gate, dropped on conversion)"))
      }
      tensors += layer
      tensors.append(norm(prefix + "input_layernorm.weight", g, .required, layer: i))
    }
    if fusedQKV {
      for j in 0..<a {
        tensors.append(norm("aux_hidden_norms.\(j).weight", g, .optional))
      }
    }
    return tensors
  }

  /// Speculators `mtp` (`models/mtp`): one `mtp_layers.0` block, `input_proj` [H, 2H] over
  /// embedding ⊕ hidden with its token/hidden/final norms, and a dense decoder layer. The
  /// embedding and heads come from the verifier at load time.
  static func mtpTable(geometry g: Geometry, flags: [Flag: Bool]) -> TensorSet {
    let h = g.hiddenSize
    let prefix = "mtp_layers.0."
    var tensors: [Tensor] = [
      Tensor(name: "embed_tokens.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(name: "lm_head.weight", shapes: [[g.vocabSize, h]], presence: .optional, rule: "[V, H]"),
      Tensor(
        name: "verifier_lm_head.weight", shapes: [[g.vocabSize, h]], presence: .optional,
        rule: "[V, H] (written by speculators' DraftVocabMixin)"),
      Tensor(
        name: prefix + "input_proj.weight", shapes: [[h, 2 * h]], layer: 0,
        rule: "[H, 2H]: embedding ⊕ hidden"),
      norm(prefix + "token_layernorm.weight", g, .required, layer: 0),
      norm(prefix + "hidden_layernorm.weight", g, .required, layer: 0),
      norm(prefix + "final_layernorm.weight", g, .required, layer: 0),
      norm(prefix + "input_layernorm.weight", g, .required, layer: 0),
    ]
    tensors += decoderLayer(
      prefix: prefix, layer: 0, inputWidth: h, inputRule: "H", geometry: g, policy: .speculators(flags))
    var single = g
    single.layerCount = 1
    return TensorSet(
      layout: .speculatorsMTP, geometry: single, flags: flags, tensors: tensors, layerPrefix: "mtp_layers.",
      indexedLayers: true)
  }
}
