import Inspect

/// z-lab DFlash drafts → Speculators `dflash`, with the config speculators 0.9.0 writes
/// (`convert/dflash/converter.py`, `models/dflash/config.py`).
///
/// - Tensors: the names of ``ConversionMapping`` (`dflash`); a fused `qkv_proj` is cut into
///   q/k/v by rows `[heads·head_dim, kv_heads·head_dim, kv_heads·head_dim]`, and a fused
///   draft's `fc.weight` keeps only the columns of the aux states that remain (as the
///   reference's Laguna path does). No embedding or `lm_head` is written: vLLM shares the
///   verifier's.
/// - `transformer_layer_config`: the source config minus `architectures`, `auto_map`,
///   `block_size`, `dflash_config` and `num_target_layers`, in its own key order.
/// - `block_size`: top level, else `dflash_config.block_size`; the greedy proposal has
///   `block_size - 1` tokens. `mask_token_id`: `dflash_config.mask_token_id`.
/// - `aux_hidden_state_layer_ids`: the kwarg, else `target_layer_ids + 1` without an id equal
///   to the verifier's layer count (z-lab taps `hidden_states[id + 1]`; the last layer's
///   output is not an aux state in vLLM).
/// - `sliding_window_non_causal`: `true` when no layer is a sliding-window layer, so that vLLM
///   (`dflash_config.causal = not sliding_window_non_causal`) keeps the non-causal block
///   attention z-lab drafts are trained with; speculators 0.9.0 always writes `false`, which
///   makes every layer causal. With sliding layers `false` is written and a warning says that
///   vLLM then runs the full-attention layers causal too.
enum DFlashConversion {
  /// Source keys that are not part of the draft transformer's config.
  static let nonTransformerKeys: Set<String> = [
    "architectures", "auto_map", "block_size", "dflash_config", "num_target_layers",
  ]

  static func build(_ inputs: ConversionInputs) throws -> ConversionDraft {
    let location = inputs.checkpoint.location
    let config = inputs.config
    let plan = try ConversionMapping.plan(
      for: inputs.checkpoint, algorithm: .dflash,
      options: .init(allowDrop: inputs.allowDrop, dropUnknown: inputs.dropUnknown)).checked()
    var tensors = try inputs.copies(of: plan)
    var warnings = plan.warnings
    let verifier = inputs.verifier
    let dflashConfig = config.json["dflash_config"]

    // Geometry.
    let hidden = try inputs.requiredInt("hidden_size")
    let heads = try inputs.requiredInt("num_attention_heads")
    guard plan.flags.layerCount > 0 else {
      throw CheckpointError(.notFound, file: location, reason: "no decoder layer (layers.0.*)")
    }
    if let verifierHidden = verifier.hiddenSize, verifierHidden != hidden {
      throw ConversionError(
        .refused, file: verifier.configPath,
        reason: "verifier hidden_size \(verifierHidden) does not match the draft's hidden_size \(hidden)")
    }
    guard let fcIndex = tensors.firstIndex(where: { $0.entry.name == "fc.weight" }) else {
      throw CheckpointError(
        .notFound, file: location, tensor: "fc.weight", reason: "a DFlash draft needs its fusion layer")
    }
    let fc = tensors[fcIndex]
    guard fc.entry.shape.count == 2, fc.entry.shape[0] == hidden, fc.entry.shape[1] > 0,
      fc.entry.shape[1] % hidden == 0
    else {
      throw ConversionError(
        .refused, file: fc.source?.file ?? location, tensor: "fc.weight",
        reason: "shape \(fc.entry.shape) is not [\(hidden), n×\(hidden)]")
    }

    // block_size, mask token, aux layer ids.
    let blockValue = config.json["block_size"].flatMap { $0.isNull ? nil : $0 } ?? dflashConfig?["block_size"]
    guard let blockValue, !blockValue.isNull else {
      throw CheckpointError(
        .malformed, file: inputs.configPath, reason: "no block_size (checked the top level and dflash_config)")
    }
    guard let block = ConfigBounds.checked("block_size", blockValue), block >= 2 else {
      throw CheckpointError(
        .malformed, file: inputs.configPath, reason: "block_size must be an integer of at least 2")
    }
    let mask = dflashConfig?["mask_token_id"] ?? .null
    if mask.isNull {
      warnings.append("dflash_config has no mask_token_id: null is written, and vLLM refuses a dflash draft without one")
    } else if mask.intValue == nil || (mask.intValue ?? -1) < 0 {
      throw CheckpointError(
        .malformed, file: inputs.configPath, reason: "dflash_config.mask_token_id must be a non-negative integer")
    } else if let vocab = verifier.vocabSize, let id = mask.intValue, id >= vocab {
      throw ConversionError(
        .refused, file: inputs.configPath,
        reason: "dflash_config.mask_token_id \(id) is outside the verifier vocabulary (\(vocab))")
    }
    let auxIDs = try auxLayerIDs(inputs, dflashConfig: dflashConfig)
    if let layers = verifier.layerCount, let bad = auxIDs.first(where: { $0 >= layers }) {
      throw ConversionError(
        .refused, file: verifier.configPath,
        reason: "aux_hidden_state_layer_ids entry \(bad) is not below the verifier's num_hidden_layers \(layers)")
    }

    // fc width: one hidden state per aux id. A fused (Laguna) draft tapping one more layer
    // keeps the leading columns, as the reference converter does; otherwise it is an error.
    let sourceStates = fc.entry.shape[1] / hidden
    if sourceStates != auxIDs.count {
      guard !plan.splits.isEmpty, sourceStates > auxIDs.count, let source = fc.source,
        let sliced = source.leadingColumns(auxIDs.count * hidden)
      else {
        throw ConversionError(
          .refused, file: fc.source?.file ?? location, tensor: "fc.weight",
          reason: "takes \(sourceStates) hidden states but aux_hidden_state_layer_ids has \(auxIDs.count) "
            + "(\(auxIDs.map(String.init).joined(separator: ", "))); pass the ids with --algorithm-kwargs")
      }
      tensors[fcIndex].entry = .init(
        name: "fc.weight", dtype: fc.entry.dtype, shape: sliced.shape, content: .tensor(sliced))
      warnings.append(
        "fc.weight takes \(sourceStates) hidden states but \(auxIDs.count) aux layers remain: "
          + "its first \(auxIDs.count * hidden) columns are kept, as speculators 0.9.0 does")
    }

    // Fused q/k/v.
    let headDim = config.int("head_dim") ?? hidden / heads
    let kvHeads = config.numKeyValueHeads ?? heads
    for split in plan.splits {
      let source = try inputs.sourceTensor(split.source)
      let sizes = [heads * headDim, kvHeads * headDim, kvHeads * headDim]
      guard source.shape.first == sizes.reduce(0, +) else {
        throw ConversionError(
          .refused, file: source.file, tensor: source.name,
          reason: "\(source.shape.first ?? 0) rows do not split into q/k/v of \(sizes.map(String.init).joined(separator: "/")) "
            + "(num_attention_heads \(heads), num_key_value_heads \(kvHeads), head_dim \(headDim))")
      }
      var start = 0
      for (output, size) in zip(split.outputs, sizes) {
        guard let piece = source.rows(start..<start + size, named: source.name) else {
          throw CheckpointError(.malformed, file: source.file, tensor: source.name, reason: "cannot slice rows")
        }
        tensors.append(
          PlannedTensor(
            entry: .init(
              name: output, dtype: try inputs.outputDType(for: source.dtype), shape: piece.shape,
              content: .tensor(piece)),
            origin: .draft, source: piece))
        start += size
      }
    }
    tensors.sort { $0.entry.name < $1.entry.name }
    if let mixed = inputs.mixedDTypeWarning(tensors) { warnings.append(mixed) }

    // Causality as vLLM reads it.
    let layerTypes = config.layerTypes ?? []
    let sliding = layerTypes.filter { $0 == "sliding_attention" }.count
    let nonCausal = sliding == 0
    if !nonCausal {
      warnings.append(
        "\(sliding) of \(layerTypes.count) layers are sliding-window: sliding_window_non_causal false is written, "
          + "and vLLM then runs every layer causal (the full-attention layers were trained non-causal)")
    }

    let vocab = try inputs.requiredInt("vocab_size")
    let floatType = inputs.dtype ?? fc.entry.dtype
    var layer: [(key: String, value: JSONValue)] = []
    for (key, value) in config.json.objectMembers ?? [] where !nonTransformerKeys.contains(key) {
      layer.append((key, value))
    }
    let ids = JSONValue.array(auxIDs.map { .int(Int64($0)) })
    let configJSON: JSONValue = .object([
      ("architectures", ["DFlashDraftModel"]),
      ("aux_hidden_state_layer_ids", ids),
      ("block_size", .int(Int64(block))),
      ("draft_vocab_size", .int(Int64(vocab))),
      ("mask_token_id", mask),
      ("sample_from_anchor", false),
      ("sliding_window_non_causal", .bool(nonCausal)),
      (
        "speculators_config",
        SpeculatorsConfigBuilder.speculatorsConfig(
          algorithm: .dflash, verifier: verifier, speculativeTokens: Int64(block - 1))
      ),
      ("speculators_model_type", "dflash"),
      ("speculators_version", .string(ToolInfo.version)),
      ("target_hidden_size", .null),
      ("torch_dtype", .string(floatType.torchName)),
      ("transformer_layer_config", .object(layer)),
    ])
    let flags: [(key: String, value: JSONValue)] = [
      ("aux_hidden_state_layer_ids", ids), ("block_size", .int(Int64(block))), ("mask_token_id", mask),
      ("sliding_window_non_causal", .bool(nonCausal)), ("num_hidden_layers", .int(Int64(plan.flags.layerCount))),
    ]
    return ConversionDraft(
      algorithm: .dflash, tensors: tensors, config: configJSON, dropped: plan.dropped, flags: flags,
      warnings: warnings, embeddingsFile: nil)
  }

  /// The kwarg, else `dflash_config.target_layer_ids + 1` without the verifier's layer count.
  private static func auxLayerIDs(
    _ inputs: ConversionInputs, dflashConfig: JSONValue?
  ) throws -> [Int] {
    if let ids = inputs.kwargs.auxHiddenStateLayerIDs { return ids }
    guard let elements = dflashConfig?["target_layer_ids"]?.arrayValue else {
      throw CheckpointError(
        .malformed, file: inputs.configPath,
        reason: "no dflash_config.target_layer_ids; pass aux_hidden_state_layer_ids with --algorithm-kwargs")
    }
    guard let layers = inputs.verifier.layerCount else {
      throw CheckpointError(
        .malformed, file: inputs.verifier.configPath,
        reason: "the verifier config has no num_hidden_layers; pass aux_hidden_state_layer_ids with --algorithm-kwargs")
    }
    var ids: [Int] = []
    for element in elements {
      guard let id = element.intValue, id >= 0, id < ConfigBounds.maximumCount else {
        throw CheckpointError(
          .malformed, file: inputs.configPath, reason: "dflash_config.target_layer_ids must hold non-negative integers")
      }
      if id + 1 != layers { ids.append(id + 1) }
    }
    guard !ids.isEmpty else {
      throw CheckpointError(
        .malformed, file: inputs.configPath, reason: "dflash_config.target_layer_ids leaves no aux layer")
    }
    return ids
  }
}
