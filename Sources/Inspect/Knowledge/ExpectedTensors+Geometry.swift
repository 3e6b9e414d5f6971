extension ExpectedTensors {
  /// The sizes that determine a draft's tensor shapes (notation of
  /// `docs/convert.md`).
  package struct Geometry: Sendable, Hashable {
    /// `H`: the draft's hidden size.
    package var hiddenSize: Int
    /// `I`: the draft MLP's intermediate size.
    package var intermediateSize: Int
    /// `NH`: attention heads.
    package var attentionHeads: Int
    /// `KV`: key/value heads (defaults to `NH`).
    package var keyValueHeads: Int
    /// `HD`: head dimension (`head_dim`, else `H / NH`).
    package var headDim: Int
    /// `V`: the target (verifier) vocabulary, `vocab_size`.
    package var vocabSize: Int
    /// `DV`: the draft vocabulary (`draft_vocab_size`, else `V`).
    package var draftVocabSize: Int
    /// `TH`: the verifier hidden size the `fc` input is made of (`target_hidden_size`, else `H`).
    package var targetHiddenSize: Int
    /// `L`: decoder layers (`num_hidden_layers`, default 1).
    package var layerCount: Int
    /// `A`: aux hidden states concatenated into `fc` (length of
    /// `eagle_aux_hidden_state_layer_ids`, else 3). Meaningful for EAGLE-3 only.
    package var auxStateCount: Int
    /// Whether `A` came from an explicit list of aux layer ids.
    package var auxStateCountIsExplicit: Bool
    /// `transformer_layer_config.model_type` (or the raw config's `model_type`).
    package var layerModelType: String?

    /// Creates a geometry.
    package init(
      hiddenSize: Int, intermediateSize: Int, attentionHeads: Int, keyValueHeads: Int, headDim: Int,
      vocabSize: Int, draftVocabSize: Int, targetHiddenSize: Int, layerCount: Int, auxStateCount: Int,
      auxStateCountIsExplicit: Bool, layerModelType: String?
    ) {
      self.hiddenSize = hiddenSize
      self.intermediateSize = intermediateSize
      self.attentionHeads = attentionHeads
      self.keyValueHeads = keyValueHeads
      self.headDim = headDim
      self.vocabSize = vocabSize
      self.draftVocabSize = draftVocabSize
      self.targetHiddenSize = targetHiddenSize
      self.layerCount = layerCount
      self.auxStateCount = auxStateCount
      self.auxStateCountIsExplicit = auxStateCountIsExplicit
      self.layerModelType = layerModelType
    }

    /// The geometry of a Speculators config: sizes from `transformer_layer_config`, vocab
    /// and fusion sizes from the top level.
    static func speculators(_ model: ModelConfig, algorithm: Layout) throws(Unavailable) -> Geometry {
      guard let layer = model.layer else {
        throw Unavailable(
          keys: ["transformer_layer_config"], reason: "transformer_layer_config is missing or not an object")
      }
      let draftVocab =
        algorithm == .speculatorsEagle3 || algorithm == .speculatorsDFlash
        ? ConfigBounds.checked("draft_vocab_size", model.json["draft_vocab_size"]) : nil
      return try build(
        layer: layer, prefix: "transformer_layer_config.", draftVocab: draftVocab,
        targetHidden: ConfigBounds.checked("target_hidden_size", model.json["target_hidden_size"]),
        auxIDs: model.json[algorithm.auxLayerIDsKey])
    }

    /// The geometry of a raw draft's own config (top level, else `text_config`).
    static func source(_ model: ModelConfig, layout: Layout) throws(Unavailable) -> Geometry {
      // A raw DFlash draft taps one state per `dflash_config.target_layer_ids` entry.
      let auxIDs =
        layout == .dflashSource
        ? model.json["dflash_config"]?["target_layer_ids"]
        : model.json["eagle_config"]?["eagle_aux_hidden_state_layer_ids"]
          ?? model.json["eagle_aux_hidden_state_layer_ids"]
      return try build(
        layer: model, prefix: "", draftVocab: layout.isEagle3 ? model.draftVocabSize : nil,
        targetHidden: model.targetHiddenSize, auxIDs: auxIDs)
    }

    private static func build(
      layer: ModelConfig, prefix: String, draftVocab: Int?, targetHidden: Int?, auxIDs: JSONValue?
    ) throws(Unavailable) -> Geometry {
      var missing: [String] = []
      func need(_ key: String, _ value: Int?) -> Int {
        guard let value, value > 0 else {
          missing.append(prefix + key)
          return 0
        }
        return value
      }
      let hidden = need("hidden_size", layer.hiddenSize)
      let intermediate = need("intermediate_size", layer.intermediateSize)
      let heads = need("num_attention_heads", layer.numAttentionHeads)
      let vocab = need("vocab_size", layer.vocabSize)
      guard missing.isEmpty else {
        throw Unavailable(
          keys: missing, reason: "missing or non-positive: \(missing.joined(separator: ", "))")
      }
      let kvHeads = layer.int("num_key_value_heads") ?? heads
      let headDim = layer.int("head_dim") ?? hidden / heads
      let layers = layer.int("num_hidden_layers") ?? 1
      var auxCount = 3
      var explicit = false
      if let ids = auxIDs?.arrayValue, !ids.isEmpty {
        auxCount = ids.count
        explicit = true
      }
      return Geometry(
        hiddenSize: hidden, intermediateSize: intermediate, attentionHeads: heads, keyValueHeads: kvHeads,
        headDim: headDim, vocabSize: vocab, draftVocabSize: draftVocab ?? vocab,
        targetHiddenSize: targetHidden ?? hidden, layerCount: layers, auxStateCount: auxCount,
        auxStateCountIsExplicit: explicit, layerModelType: layer.modelType)
    }
  }
}
