import Inspect

/// EAGLE v1/v2 and HASS drafts → Speculators `eagle` (`docs/convert.md`).
///
/// Tensor names follow ``ConversionMapping`` (`fc.`→`fusion_fc.`, `layers.0.`→`transformer.`,
/// the HASS norm renames, `embed_tokens` dropped). The config is `speculators_model_type:
/// eagle` with `layernorms` / `fusion_bias` (flag OR detected), `transformer_layer_architecture:
/// LlamaDecoderLayer` and a Llama `transformer_layer_config` with `num_hidden_layers` 1.
/// The verifier must have the draft's hidden size and vocabulary (eagle drafts read the
/// verifier's embeddings and `lm_head`).
enum EagleConversion {
  static func build(_ inputs: ConversionInputs) throws -> ConversionDraft {
    let kwargs = inputs.kwargs
    let plan = try ConversionMapping.plan(
      for: inputs.checkpoint, algorithm: .eagle,
      options: .init(
        layernorms: kwargs.layernorms ?? false, fusionBias: kwargs.fusionBias ?? false,
        allowDrop: inputs.allowDrop, dropUnknown: inputs.dropUnknown)).checked()
    var tensors = try inputs.copies(of: plan)
    guard let fc = tensors.first(where: { $0.entry.name == "fusion_fc.weight" }) else {
      throw CheckpointError(
        .notFound, file: inputs.checkpoint.location, tensor: "fc.weight",
        reason: "an EAGLE draft needs its fusion layer")
    }
    guard tensors.contains(where: { $0.entry.name.hasPrefix("transformer.") }) else {
      throw CheckpointError(
        .notFound, file: inputs.checkpoint.location,
        reason: "no layers.0.* decoder tensors: not an EAGLE draft")
    }
    let hidden = try inputs.requiredInt("hidden_size")
    guard fc.entry.shape == [hidden, 2 * hidden] else {
      throw CheckpointError(
        .malformed, file: fc.source?.file ?? inputs.checkpoint.location, tensor: "fc.weight",
        reason:
          "shape \(fc.entry.shape) does not match hidden_size \(hidden) (expected [\(hidden), \(2 * hidden)])"
      )
    }
    let verifier = inputs.verifier
    guard let verifierHidden = verifier.hiddenSize else {
      throw CheckpointError(
        .malformed, file: verifier.configPath, reason: "the verifier config has no hidden_size")
    }
    guard verifierHidden == hidden else {
      throw ConversionError(
        .refused, file: verifier.configPath,
        reason: "verifier hidden_size \(verifierHidden) does not fit the draft (hidden_size \(hidden)): "
          + "an eagle draft concatenates the verifier's hidden state with its embedding")
    }
    guard let verifierVocab = verifier.vocabSize else {
      throw CheckpointError(
        .malformed, file: verifier.configPath, reason: "the verifier config has no vocab_size")
    }
    let draftVocab = inputs.config.vocabSize ?? verifierVocab
    guard draftVocab == verifierVocab else {
      throw ConversionError(
        .refused, file: verifier.configPath,
        reason: "verifier vocab_size \(verifierVocab) does not fit the draft (vocab_size \(draftVocab)): "
          + "an eagle draft uses the verifier's embeddings and lm_head")
    }
    let heads = try inputs.requiredInt("num_attention_heads")
    let intermediate =
      inputs.config.intermediateSize
      ?? tensors.first(where: { $0.entry.name == "transformer.mlp.gate_proj.weight" })?.entry.shape.first
    guard let intermediate else {
      throw CheckpointError(.malformed, file: inputs.configPath, reason: "'intermediate_size' is missing")
    }

    let floatType = fc.entry.dtype
    for synthesis in plan.synthesized {
      tensors.append(
        PlannedTensor(
          entry: .init(
            name: synthesis.output, dtype: floatType, shape: [hidden], content: .fill(synthesis.fill)),
          origin: .synthesized, source: nil))
    }
    var warnings = plan.warnings
    if let overridden = AlgorithmKwargs.overrideWarning(
      "fusion_bias", requested: kwargs.fusionBias, inEffect: plan.flags.fusionBias, evidence: "fc.bias")
    {
      warnings.append(overridden)
    }
    if let overridden = AlgorithmKwargs.overrideWarning(
      "layernorms", requested: kwargs.layernorms, inEffect: plan.flags.layernorms,
      evidence: "the HASS layernorms (embed_layernorm.weight)")
    {
      warnings.append(overridden)
    }
    if let mixed = inputs.mixedDTypeWarning(tensors) { warnings.append(mixed) }

    let layer = SpeculatorsConfigBuilder.layerConfig(
      source: inputs.config,
      .init(
        hiddenSize: hidden, intermediateSize: intermediate, attentionHeads: heads, layerCount: 1,
        vocabSize: draftVocab,
        maxPositionEmbeddings: inputs.config.value("max_position_embeddings") ?? 4096, modelType: "llama",
        copyTokenIDs: true))
    let config: JSONValue = [
      "architectures": ["EagleSpeculator"],
      "fusion_bias": .bool(plan.flags.fusionBias),
      "layernorms": .bool(plan.flags.layernorms),
      "speculators_config": SpeculatorsConfigBuilder.speculatorsConfig(algorithm: .eagle, verifier: verifier),
      "speculators_model_type": "eagle",
      "speculators_version": .string(ToolInfo.version),
      "torch_dtype": .string(floatType.torchName),
      "transformer_layer_architecture": .string(SpeculatorsConfigBuilder.eagleLayerArchitecture),
      "transformer_layer_config": layer,
    ]
    return ConversionDraft(
      algorithm: .eagle, tensors: tensors, config: config, dropped: plan.dropped,
      flags: [("fusion_bias", .bool(plan.flags.fusionBias)), ("layernorms", .bool(plan.flags.layernorms))],
      warnings: warnings, embeddingsFile: nil)
  }
}
