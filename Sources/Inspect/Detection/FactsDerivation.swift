extension DetectedFacts {
  /// Names of the HASS-style extra norms in the layouts that have them (research/hass,
  /// vLLM legacy EAGLE, Speculators eagle).
  static let extraNormNames = [
    "embed_layernorm.weight", "post_embedding_layernorm.weight", "hidden_layernorm.weight",
    "lm_head_layernorm.weight", "enorm.weight", "hnorm.weight", "embedding_layernorm.weight",
    "pre_lm_head_layernorm.weight",
  ]

  /// Derives the facts of `context` for a layout of `family`: shapes first, config second.
  static func derive(from context: DetectionContext, family: SourceFormat.Family) -> DetectedFacts {
    let geometry = context.geometryConfig
    var facts = DetectedFacts()
    let fcName = ["fc.weight", "fusion_fc.weight"].first(where: context.has)

    facts.hiddenSize =
      fcName.flatMap(context.rows)
      ?? [
        "norm.weight", "layers.0.hidden_norm.weight", "midlayer.hidden_norm.weight", "hidden_norm.weight",
        "layers.0.post_attention_layernorm.weight", "midlayer.post_attention_layernorm.weight",
        "transformer.post_attention_layernorm.weight",
      ].lazy.compactMap(context.rows).first
      ?? context.firstName(hasSuffix: "embed_tokens.weight").flatMap(context.columns)
      ?? geometry?.hiddenSize
    facts.targetHiddenSize = geometry?.targetHiddenSize ?? context.config?.targetHiddenSize
    facts.fcInputWidth = fcName.flatMap(context.columns)

    facts.d2tPresent = context.has("d2t")
    facts.t2dPresent = context.has("t2d")
    let embedName =
      context.has("embed_tokens.weight")
      ? "embed_tokens.weight" : context.firstName(hasSuffix: ".embed_tokens.weight")
    facts.embeddingsPresent = embedName != nil
    facts.vocabSize =
      context.rows("t2d") ?? embedName.flatMap(context.rows) ?? geometry?.vocabSize
      ?? context.config?.vocabSize

    switch family {
    case .eagle3, .dflash:
      facts.draftVocabSize =
        context.rows("lm_head.weight") ?? context.rows("d2t") ?? context.config?.draftVocabSize
        ?? (family == .dflash ? facts.vocabSize : nil)
      if let width = facts.fcInputWidth, let base = facts.targetHiddenSize ?? facts.hiddenSize,
        base > 0, width % base == 0
      {
        facts.auxStateCount = width / base
      }
    case .eagle:
      facts.draftVocabSize = nil
      facts.layernorms = extraNormNames.contains(where: context.has)
    case .mtp, .other:
      facts.draftVocabSize = context.config?.draftVocabSize
    }
    facts.fusionBias = context.has("fc.bias") || context.has("fusion_fc.bias")

    let found = context.layerIndices(components: ["layers", "midlayer"])
    var layers = Set(found[0])
    let midlayerIndices = found[1]
    if !midlayerIndices.isEmpty {
      layers.formUnion(midlayerIndices.map { 1_000_000 + $0 })
    } else if context.anyName(hasPrefix: "midlayer.") {
      layers.insert(-1)
    }
    if context.anyName(hasPrefix: "transformer.") { layers.insert(-2) }
    facts.decoderLayers = layers.count

    facts.weightsDType = fcName.flatMap { context.tensor($0)?.dtype } ?? dominantFloatDType(context)
    return facts
  }

  /// The floating-point dtype with the most tensors (ties: the first in name order).
  static func dominantFloatDType(_ context: DetectionContext) -> DType? {
    // A short list, not a dictionary: this runs over every tensor, and a checkpoint holds
    // only a few dtypes.
    var order: [DType] = []
    var counts: [Int] = []
    for dtype in context.dtypes where dtype.isFloatingPoint {
      if let slot = order.firstIndex(of: dtype) {
        counts[slot] += 1
      } else {
        order.append(dtype)
        counts.append(1)
      }
    }
    return order.indices.max { counts[$0] < counts[$1] }.map { order[$0] }
  }
}
