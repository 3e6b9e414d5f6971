import Inspect

/// A draft checkpoint as the probe reads it: its algorithm, the layer shape, the reading vLLM
/// would use, and the names of its tensors in the Speculators layout.
///
/// Both Speculators-format drafts (`speculators_model_type`) and drafts before conversion
/// (EAGLE-3 `midlayer.*`, EAGLE-1/HASS `fc.*`/`layers.0.*`) are read; the latter through the
/// same renames `convert` applies (``ConversionMapping``).
struct DraftSource {
  let checkpoint: Checkpoint
  let weights: WeightSet
  let shape: TransformerShape
  /// What vLLM would use.
  let reading: DraftReading
  /// Whether the config is in the Speculators format.
  let converted: Bool
  /// The `fc` input width the tensors have (eagle3).
  let fcInputWidth: Int?
  /// `speculative_tokens` of the config's first proposal method, when present.
  let speculativeTokens: Int?

  init(checkpoint: Checkpoint, reader: TensorReader, verifierLayers: Int) throws(ProbeError) {
    self.checkpoint = checkpoint
    guard let json = checkpoint.config else {
      throw ProbeError(.invalidInput, file: checkpoint.location, reason: "the draft has no config.json")
    }
    let top = ModelConfig(json)
    let configFile = checkpoint.directory + "/config.json"
    converted = top.speculatorsModelType != nil
    let names = Set(checkpoint.tensors.map(\.name))
    let algorithm: DraftReading.Algorithm
    if let type = top.speculatorsModelType {
      switch type {
      case "eagle3": algorithm = .eagle3
      case "eagle": algorithm = .eagle
      default:
        throw ProbeError(
          .unsupported, file: configFile,
          reason: "speculators_model_type '\(type)' is not supported by the probe (eagle3, eagle)")
      }
    } else if names.contains("midlayer.hidden_norm.weight") || names.contains("layers.0.hidden_norm.weight") {
      algorithm = .eagle3
    } else if names.contains("fc.weight") && names.contains("layers.0.self_attn.q_proj.weight") {
      algorithm = .eagle
    } else {
      throw ProbeError(
        .unsupported, file: checkpoint.location,
        reason: "not an EAGLE-3 or EAGLE draft the probe can run (no Speculators config, no midlayer/fc tensors)")
    }
    let layerConfig = converted ? (top.layer ?? top) : top
    shape = try TransformerShape(config: layerConfig, file: configFile, defaultFamily: .llama)
    // Forward-pass (Speculators) names → stored names.
    var map: [String: String] = [:]
    if !converted {
      let plan: ConversionMapping.Plan
      do {
        plan = try ConversionMapping.plan(
          tensorNames: checkpoint.tensors.map(\.name), algorithm: algorithm == .eagle3 ? .eagle3 : .eagle,
          options: ConversionMapping.Options(dropUnknown: true), location: checkpoint.location)
      } catch {
        throw ProbeError(error)
      }
      for rename in plan.renames where rename.output != rename.source { map[rename.output] = rename.source }
    }
    weights = WeightSet(checkpoint: checkpoint, reader: reader, names: map)
    let eagleConfig = json["eagle_config"]
    func flag(_ key: String, default value: Bool) -> Bool {
      top.bool(key) ?? layerConfig.bool(key) ?? eagleConfig?[key]?.boolValue ?? value
    }
    let declared =
      (json["eagle_aux_hidden_state_layer_ids"] ?? eagleConfig?["eagle_aux_hidden_state_layer_ids"])?
      .arrayValue?.compactMap(\.intValue)
    let hasOwnEmbedding = names.contains("embed_tokens.weight")
    switch algorithm {
    case .eagle3:
      let ids = (declared?.isEmpty == false ? declared! : [2, verifierLayers / 2, verifierLayers - 3])
      reading = DraftReading(
        algorithm: .eagle3,
        auxLayerIDs: DraftReading.collected(ids).filter { $0 >= 0 && $0 <= verifierLayers },
        declaredAuxLayerIDs: declared?.isEmpty == false ? declared : nil,
        // vLLM's Speculators reader defaults norm_before_residual to true; its EAGLE-3 layer
        // reads false from a config without the key.
        normBeforeResidual: flag("norm_before_residual", default: converted),
        normBeforeFC: flag("norm_before_fc", default: false),
        fcNorm: flag("fc_norm", default: false),
        normOutput: flag("norm_output", default: false),
        layernorms: false,
        embedding: hasOwnEmbedding ? .draft : .verifier,
        lmHead: weights.contains("lm_head.weight") ? .draft : .verifier)
      fcInputWidth = weights.info("fc.weight").flatMap { $0.shape.count == 2 ? $0.shape[1] : nil }
    case .eagle:
      let layernorms =
        top.bool("layernorms")
        ?? (names.contains("embedding_layernorm.weight") || names.contains("embed_layernorm.weight")
          || names.contains("post_embedding_layernorm.weight"))
      reading = DraftReading(
        algorithm: .eagle, auxLayerIDs: [], declaredAuxLayerIDs: nil, normBeforeResidual: false,
        normBeforeFC: false, fcNorm: false, normOutput: false, layernorms: layernorms,
        embedding: hasOwnEmbedding ? .draft : .verifier, lmHead: .verifier)
      fcInputWidth = nil
    }
    speculativeTokens = json["speculators_config"]?["proposal_methods"]?.arrayValue?.first?["speculative_tokens"]?
      .intValue
  }
}
