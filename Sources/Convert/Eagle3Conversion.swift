import Inspect

/// EAGLE-3 drafts (SafeAILab, SpecForge, multi-layer) → Speculators `eagle3`
/// (`docs/convert.md`).
///
/// - Names: `midlayer.`→`layers.0.`, every `layers.N.` kept, `d2t`/`t2d` kept with their dtypes.
/// - A missing `embed_tokens.weight` is copied from the verifier by reading that one tensor
///   from the one file that holds it, cast to the draft's float dtype so the output is uniform.
/// - `vocab_size` is the verifier's (found under `text_config` too); `draft_vocab_size` comes from
///   `d2t` (else the source config, else `lm_head` rows); `lm_head` rows must equal it and `t2d`
///   must have that many `true` entries.
/// - `target_hidden_size`: the source value (which must equal the verifier's hidden size), else
///   the verifier's hidden size when it differs from the draft's, else `null`.
/// - `norm_before_residual` is always written (kwarg, else the source config's, else false);
///   `eagle_aux_hidden_state_layer_ids`, `norm_before_fc`, `fc_norm`, `norm_output` only when
///   they hold (their tensors present / ids known; `norm_output` from the kwarg or the source
///   config).
/// - Qwen3 drafts keep `q_norm`/`k_norm` and `model_type: qwen3` (vLLM runs
///   `Eagle3Qwen3ForCausalLM`); a missing `num_key_value_heads` means `num_attention_heads`; the
///   tensors keep their stored dtype, whether the source config says `torch_dtype` or `dtype`.
enum Eagle3Conversion {
  /// Converts `inputs`: plan the tensors, check the geometry against the verifier, settle the
  /// vocabularies and the embeddings, then the flags and the config. Each stage throws the
  /// first problem it finds, in that order.
  static func build(_ inputs: ConversionInputs) throws -> ConversionDraft {
    var build = try Build(inputs)
    let geometry = try build.geometry()
    let draftVocab = try build.vocabularies(geometry)
    let embeddingsFile = try build.embeddings(geometry)
    build.noteLayerCount()
    let (normBeforeResidual, optional) = try build.optionalFlags(geometry)
    var flags: [(key: String, value: JSONValue)] = [("norm_before_residual", .bool(normBeforeResidual))]
    flags += optional
    flags.append(("draft_vocab_size", .int(Int64(draftVocab))))
    flags.append(("target_hidden_size", geometry.targetHiddenValue))
    flags.append(("num_hidden_layers", .int(Int64(build.plan.flags.layerCount))))
    if let mixed = inputs.mixedDTypeWarning(build.tensors) { build.warnings.append(mixed) }
    let config = try build.config(
      geometry, draftVocab: draftVocab, normBeforeResidual: normBeforeResidual, optional: optional)
    return ConversionDraft(
      algorithm: .eagle3, tensors: build.tensors, config: config, dropped: build.plan.dropped, flags: flags,
      warnings: build.warnings, embeddingsFile: embeddingsFile)
  }

  /// The draft's and the verifier's sizes the conversion rests on.
  struct Geometry {
    /// The draft's `hidden_size`.
    var hidden: Int
    /// The verifier's `vocab_size`.
    var vocab: Int
    /// The verifier's `hidden_size`.
    var verifierHidden: Int
    /// How many verifier hidden states `fc` fuses.
    var auxCount: Int
    /// `target_hidden_size` as written (`null` when it equals the draft's hidden size and the
    /// source did not say it).
    var targetHiddenValue: JSONValue
    /// The fusion layer and the draft's `lm_head`.
    var fc: PlannedTensor
    var lmHead: PlannedTensor
  }

  /// One conversion in progress: the plan, the tensors to write and the warnings so far.
  struct Build {
    let inputs: ConversionInputs
    let plan: ConversionMapping.Plan
    var tensors: [PlannedTensor]
    var warnings: [String]

    /// Plans the renames and copies.
    init(_ inputs: ConversionInputs) throws {
      self.inputs = inputs
      plan = try ConversionMapping.plan(
        for: inputs.checkpoint, algorithm: .eagle3,
        options: .init(allowDrop: inputs.allowDrop, dropUnknown: inputs.dropUnknown)).checked()
      tensors = try inputs.copies(of: plan)
      warnings = plan.warnings
    }

    var location: String { inputs.checkpoint.location }
    var verifier: VerifierModel { inputs.verifier }

    func planned(_ name: String) -> PlannedTensor? { tensors.first { $0.entry.name == name } }

    func require(_ name: String, _ why: String) throws -> PlannedTensor {
      guard let found = planned(name) else {
        throw CheckpointError(.notFound, file: location, tensor: name, reason: why)
      }
      return found
    }

    /// The draft's hidden size, `fc` and `lm_head`, its decoder layers, and the verifier's
    /// hidden and vocabulary sizes, checked against each other.
    func geometry() throws -> Geometry {
      let hidden = try inputs.requiredInt("hidden_size")
      let fc = try require("fc.weight", "an EAGLE-3 draft needs its fusion layer")
      let lmHead = try require("lm_head.weight", "an EAGLE-3 draft needs its own lm_head")
      guard plan.flags.layerCount > 0 else {
        throw CheckpointError(.notFound, file: location, reason: "no decoder layer (midlayer.* or layers.0.*)")
      }
      guard let verifierHidden = verifier.hiddenSize else {
        throw CheckpointError(
          .malformed, file: verifier.configPath, reason: "the verifier config has no hidden_size")
      }
      guard let vocab = verifier.vocabSize else {
        throw CheckpointError(
          .malformed, file: verifier.configPath, reason: "the verifier config has no vocab_size")
      }
      if let declared = inputs.config.targetHiddenSize, declared != verifierHidden {
        throw ConversionError(
          .refused, file: verifier.configPath,
          reason:
            "verifier hidden_size \(verifierHidden) does not fit the draft (target_hidden_size \(declared))")
      }
      let targetHidden = inputs.config.targetHiddenSize ?? verifierHidden
      guard fc.entry.shape.count == 2, fc.entry.shape[0] == hidden, fc.entry.shape[1] > 0,
        fc.entry.shape[1] % targetHidden == 0
      else {
        throw ConversionError(
          .refused, file: fc.source?.file ?? location, tensor: "fc.weight",
          reason:
            "shape \(fc.entry.shape) does not fit hidden_size \(hidden) and verifier hidden_size \(verifierHidden) "
            + "(expected [\(hidden), k×\(targetHidden)])")
      }
      let auxCount = fc.entry.shape[1] / targetHidden
      let targetHiddenValue: JSONValue =
        inputs.config.targetHiddenSize != nil || verifierHidden != hidden ? .int(Int64(targetHidden)) : .null
      return Geometry(
        hidden: hidden, vocab: vocab, verifierHidden: verifierHidden, auxCount: auxCount,
        targetHiddenValue: targetHiddenValue, fc: fc, lmHead: lmHead)
    }

    /// The draft vocabulary size, after checking `lm_head` and the vocabulary maps against it.
    mutating func vocabularies(_ geometry: Geometry) throws -> Int {
      let (vocab, hidden, lmHead) = (geometry.vocab, geometry.hidden, geometry.lmHead)
      if let sourceVocab = inputs.config.vocabSize, sourceVocab != vocab {
        warnings.append("the source config says vocab_size \(sourceVocab); the verifier's \(vocab) is written")
      }
      let draftVocab = try draftVocabulary(
        inputs, planned: tensors, lmHeadRows: lmHead.entry.shape.first ?? 0, vocab: vocab)
      guard lmHead.entry.shape == [draftVocab, hidden] else {
        let rows = lmHead.entry.shape.first ?? 0
        throw ConversionError(
          .refused, file: lmHead.source?.file ?? location, tensor: "lm_head.weight",
          reason: rows > draftVocab
            ? "\(rows) rows is wider than the draft vocabulary (\(draftVocab))"
            : "shape \(lmHead.entry.shape) does not match [draft_vocab_size \(draftVocab), hidden_size \(hidden)]"
        )
      }
      try checkVocabularyMaps(inputs, planned: tensors, draftVocab: draftVocab, vocab: vocab)
      return draftVocab
    }

    /// Checks the draft's own embedding, or plans the verifier's copy when the draft has none.
    ///
    /// - Returns: the verifier weights file the embedding is copied from, if it is.
    mutating func embeddings(_ geometry: Geometry) throws -> String? {
      let (vocab, hidden) = (geometry.vocab, geometry.hidden)
      let floatType = inputs.dtype ?? geometry.fc.entry.dtype
      var embeddingsFile: String?
      if let embed = planned("embed_tokens.weight") {
        guard embed.entry.shape == [vocab, hidden] else {
          throw ConversionError(
            .refused, file: embed.source?.file ?? location, tensor: "embed_tokens.weight",
            reason:
              "shape \(embed.entry.shape) does not fit the verifier vocabulary \(vocab) and hidden_size \(hidden)"
          )
        }
      } else if plan.verifierTensors.contains("embed_tokens.weight") {
        let (tensor, file) = try inputs.locateEmbeddings()
        guard tensor.shape == [vocab, hidden] else {
          throw ConversionError(
            .refused, file: tensor.file, tensor: tensor.name,
            reason: "verifier embeddings \(tensor.shape) do not fit the draft ([\(vocab), \(hidden)])")
        }
        guard tensor.dtype.isFloatingPoint, ElementCodec.canCast(from: tensor.dtype, to: floatType) else {
          throw ConversionError(
            .refused, file: tensor.file, tensor: tensor.name,
            reason: "cannot copy \(tensor.dtype.rawValue) embeddings into a \(floatType.rawValue) draft")
        }
        tensors.append(
          PlannedTensor(
            entry: .init(
              name: "embed_tokens.weight", dtype: floatType, shape: tensor.shape, content: .tensor(tensor)),
            origin: .verifier, source: tensor))
        embeddingsFile = file
      }
      return embeddingsFile
    }

    /// Warns when the source config's layer count disagrees with the checkpoint's layers.
    mutating func noteLayerCount() {
      let layerCount = plan.flags.layerCount
      if let declared = inputs.config.numHiddenLayers, declared != layerCount {
        warnings.append(
          "the source config says num_hidden_layers \(declared) but the checkpoint has \(layerCount) decoder layer(s); "
            + "\(layerCount) is written")
      }
    }

    /// `norm_before_residual` and the flags written only when they hold (`norm_before_fc`,
    /// `fc_norm`, `norm_output`, `eagle_aux_hidden_state_layer_ids`), checked against the
    /// tensors and the verifier.
    mutating func optionalFlags(_ geometry: Geometry) throws
      -> (normBeforeResidual: Bool, optional: [(key: String, value: JSONValue)])
    {
      let kwargs = inputs.kwargs
      let auxCount = geometry.auxCount
      var optional: [(key: String, value: JSONValue)] = []
      let normBeforeResidual = kwargs.normBeforeResidual ?? inputs.config.bool("norm_before_residual") ?? false
      if kwargs.normBeforeFC == true && !plan.flags.normBeforeFC {
        throw ConversionError(
          .refused, file: location, tensor: "input_norm.weight",
          reason: "norm_before_fc is requested but the draft has no input_norm.weight")
      }
      if kwargs.fcNorm == true && !plan.flags.fcNorm {
        throw ConversionError(
          .refused, file: location, tensor: "fc_norm.0.weight",
          reason: "fc_norm is requested but the draft has no fc_norm.N.weight tensors")
      }
      if plan.flags.normBeforeFC && plan.flags.fcNorm {
        throw ConversionError(
          .refused, file: location,
          reason:
            "the draft has both input_norm.weight (norm_before_fc) and fc_norm.N.weight (fc_norm), which exclude each other"
        )
      }
      for (key, requested, inEffect, evidence) in [
        ("norm_before_fc", kwargs.normBeforeFC, plan.flags.normBeforeFC, "input_norm.weight"),
        ("fc_norm", kwargs.fcNorm, plan.flags.fcNorm, "fc_norm.N.weight"),
      ] {
        if let overridden = AlgorithmKwargs.overrideWarning(
          key, requested: requested, inEffect: inEffect, evidence: evidence)
        {
          warnings.append(overridden)
        }
      }
      if plan.flags.normBeforeFC { optional.append(("norm_before_fc", true)) }
      if plan.flags.fcNorm { optional.append(("fc_norm", true)) }
      // norm_output: the kwarg, else the source config's flag (as speculators 0.9.0 reads both).
      if kwargs.normOutput ?? inputs.config.bool("norm_output") ?? false {
        guard planned("norm.weight") != nil else {
          throw ConversionError(
            .refused, file: location, tensor: "norm.weight",
            reason: "norm_output is requested but the draft has no norm.weight")
        }
        optional.append(("norm_output", true))
      }
      if let ids = try auxLayerIDs(inputs) {
        guard ids.count == auxCount else {
          throw ConversionError(
            .refused, file: location, tensor: "fc.weight",
            reason:
              "eagle_aux_hidden_state_layer_ids has \(ids.count) entries but fc.weight takes \(auxCount) hidden states"
          )
        }
        if let layers = verifier.layerCount,
          let bad = ids.first(where: { $0 > VLLMServing.highestAuxLayerID(verifierLayers: layers) })
        {
          throw ConversionError(
            .refused, file: verifier.configPath,
            reason:
              "eagle_aux_hidden_state_layer_ids entry \(bad) is above the verifier's num_hidden_layers \(layers) (vLLM taps layer inputs 0...\(layers))"
          )
        }
        if Set(ids).count != ids.count {
          throw ConversionError(
            .refused, file: location,
            reason: "eagle_aux_hidden_state_layer_ids \(ids) repeats a layer (vLLM collects each layer once, so "
              + "fc would get fewer hidden states than it takes)")
        }
        optional.append(("eagle_aux_hidden_state_layer_ids", .array(ids.map { .int(Int64($0)) })))
      } else if let layers = verifier.layerCount, let problem = VLLMServing.defaultTapsProblem(verifierLayers: layers) {
        warnings.append(
          "no eagle_aux_hidden_state_layer_ids in the kwargs, the draft config or its eagle_config: \(problem), "
            + "so vLLM fails at the first decode step; pass the draft's trained taps with --algorithm-kwargs "
            + "'{\"eagle_aux_hidden_state_layer_ids\": [...]}'")
      }
      return (normBeforeResidual, optional)
    }

    /// The Speculators `config.json`.
    func config(
      _ geometry: Geometry, draftVocab: Int, normBeforeResidual: Bool, optional: [(key: String, value: JSONValue)]
    ) throws -> JSONValue {
      let (hidden, vocab, layerCount) = (geometry.hidden, geometry.vocab, plan.flags.layerCount)
      let floatType = inputs.dtype ?? geometry.fc.entry.dtype
      let targetHiddenValue = geometry.targetHiddenValue
      let heads = try inputs.requiredInt("num_attention_heads")
      let intermediate =
        inputs.config.intermediateSize ?? planned("layers.0.mlp.gate_proj.weight")?.entry.shape.first
      guard let intermediate else {
        throw CheckpointError(.malformed, file: inputs.configPath, reason: "'intermediate_size' is missing")
      }
      let maxPositions = max(
        inputs.config.int("max_position_embeddings") ?? 4096, verifier.maxPositionEmbeddings ?? 4096)
      let layer = SpeculatorsConfigBuilder.layerConfig(
        source: inputs.config,
        .init(
          hiddenSize: hidden, intermediateSize: intermediate, attentionHeads: heads, layerCount: layerCount,
          vocabSize: vocab, maxPositionEmbeddings: .int(Int64(maxPositions)),
          modelType: inputs.config.modelType ?? "llama", copyTokenIDs: false))
      var config: [(key: String, value: JSONValue)] = [
        ("architectures", ["Eagle3Speculator"]),
        ("draft_vocab_size", .int(Int64(draftVocab))),
        ("norm_before_residual", .bool(normBeforeResidual)),
        (
          "speculators_config",
          SpeculatorsConfigBuilder.speculatorsConfig(algorithm: .eagle3, verifier: verifier)
        ),
        ("speculators_model_type", "eagle3"),
        ("speculators_version", .string(ToolInfo.version)),
        ("target_hidden_size", targetHiddenValue),
        ("torch_dtype", .string(floatType.torchName)),
        ("transformer_layer_config", layer),
      ]
      config += optional
      return .object(config)
    }
  }

  /// The draft vocabulary size: `d2t` length, else the source config, else `lm_head` rows.
  private static func draftVocabulary(
    _ inputs: ConversionInputs, planned: [PlannedTensor], lmHeadRows: Int, vocab: Int
  ) throws -> Int {
    let d2t = planned.first { $0.entry.name == "d2t" }
    let fromTensor = d2t.map { $0.entry.shape.first ?? 0 }
    let fromConfig = inputs.config.draftVocabSize
    if let fromTensor, let fromConfig, fromTensor != fromConfig {
      throw ConversionError(
        .refused, file: inputs.configPath,
        reason: "draft_vocab_size \(fromConfig) disagrees with d2t (\(fromTensor) entries)")
    }
    let draftVocab = fromTensor ?? fromConfig ?? lmHeadRows
    if d2t == nil && draftVocab < vocab {
      throw ConversionError(
        .refused, file: inputs.checkpoint.location, tensor: "d2t",
        reason:
          "the draft vocabulary (\(draftVocab)) is smaller than the verifier's (\(vocab)) but there is no d2t "
          + "to map draft tokens to verifier tokens")
    }
    return draftVocab
  }

  /// Refuses maps that break ``VocabularyMaps``' rules: `d2t` int64 offsets with
  /// `0 <= i + d2t[i] < vocab`, `t2d` a bool mask over the verifier vocabulary with `draftVocab`
  /// entries set, set at every mapped id.
  private static func checkVocabularyMaps(
    _ inputs: ConversionInputs, planned: [PlannedTensor], draftVocab: Int, vocab: Int
  ) throws {
    let d2t = planned.first { $0.entry.name == "d2t" }?.source
    let t2d = planned.first { $0.entry.name == "t2d" }?.source
    var mask: [Bool]?
    if let t2d {
      guard t2d.dtype == VocabularyMaps.maskType, t2d.shape.count == 1 else {
        throw CheckpointError(
          .malformed, file: t2d.file, tensor: "t2d",
          reason: "must be a 1-D BOOL tensor, not \(t2d.dtype.rawValue) \(t2d.shape)")
      }
      guard t2d.shape[0] == vocab else {
        // Blame the verifier only when the draft's own config agrees with its t2d; otherwise
        // the map itself is short (or long) for the vocabulary both configs name.
        if inputs.config.vocabSize == t2d.shape[0] {
          throw ConversionError(
            .refused, file: inputs.verifier.configPath,
            reason: "verifier vocab_size \(vocab) does not fit the draft (t2d covers \(t2d.shape[0]) tokens)")
        }
        throw CheckpointError(
          .malformed, file: t2d.file, tensor: "t2d",
          reason: "covers \(t2d.shape[0]) tokens, but the verifier's vocab_size is \(vocab)"
            + (inputs.config.vocabSize.map { " and the draft config's \($0)" } ?? "")
            + ": the vocabulary map does not belong to this vocabulary")
      }
      let bytes = try inputs.reader.bytes(of: t2d)
      guard bytes.count == vocab else {
        throw CheckpointError(.malformed, file: t2d.file, tensor: "t2d", reason: "read \(bytes.count) bytes, expected \(vocab)")
      }
      let decoded = VocabularyMaps.decodeMask(bytes)
      let popcount = decoded.count { $0 }
      guard popcount == draftVocab else {
        throw ConversionError(
          .refused, file: t2d.file, tensor: "t2d",
          reason: "\(popcount) tokens are marked but the draft vocabulary has \(draftVocab)")
      }
      mask = decoded
    }
    if let d2t {
      guard d2t.dtype == VocabularyMaps.offsetsType, d2t.shape == [draftVocab] else {
        throw CheckpointError(
          .malformed, file: d2t.file, tensor: "d2t",
          reason: "must be I64 [\(draftVocab)], not \(d2t.dtype.rawValue) \(d2t.shape)")
      }
      let bytes = try inputs.reader.bytes(of: d2t)
      guard bytes.count == draftVocab * 8, let offsets = VocabularyMaps.decodeOffsets(bytes, dtype: d2t.dtype) else {
        throw CheckpointError(
          .malformed, file: d2t.file, tensor: "d2t", reason: "read \(bytes.count) bytes, expected \(draftVocab * 8)")
      }
      let analysis = VocabularyMaps(offsets: offsets, mask: mask).analyse(vocabSize: vocab)
      if let index = analysis.firstBadDraftID {
        if analysis.outOfRange.first == index {
          throw ConversionError(
            .refused, file: d2t.file, tensor: "d2t",
            reason:
              "entry \(index) maps to token \(index) + \(offsets[index]), outside the verifier vocabulary (\(vocab))")
        }
        let target = analysis.notMarked.first?.target ?? index
        throw ConversionError(
          .refused, file: d2t.file, tensor: "d2t",
          reason: "entry \(index) maps to token \(target), which t2d does not mark")
      }
    }
  }

  /// The aux layer ids: kwarg, else the source's top-level key (vLLM convention, as is), else
  /// SpecForge/ModelOpt `eagle_config.eagle_aux_hidden_state_layer_ids` (output-of-layer
  /// convention, +1 to convert to vLLM's input-of-layer convention).
  private static func auxLayerIDs(_ inputs: ConversionInputs) throws -> [Int]? {
    if let ids = inputs.kwargs.auxHiddenStateLayerIDs { return ids }
    func read(_ value: JSONValue?, _ path: String) throws -> [Int]? {
      guard let value, !value.isNull else { return nil }
      guard let elements = value.arrayValue, !elements.isEmpty else {
        throw CheckpointError(
          .malformed, file: inputs.configPath, reason: "'\(path)' must be a non-empty list of integers")
      }
      var ids: [Int] = []
      for element in elements {
        guard let id = element.intValue, id >= 0, id < ConfigBounds.maximumCount else {
          throw CheckpointError(
            .malformed, file: inputs.configPath,
            reason: "'\(path)' must hold integers from 0 to \(ConfigBounds.maximumCount - 1), found "
              + JSONWriter.compact(element))
        }
        ids.append(id)
      }
      return ids
    }
    if let ids = try read(
      inputs.config.json["eagle_aux_hidden_state_layer_ids"], "eagle_aux_hidden_state_layer_ids")
    {
      return ids
    }
    if let ids = try read(
      inputs.config.json["eagle_config"]?["eagle_aux_hidden_state_layer_ids"],
      "eagle_config.eagle_aux_hidden_state_layer_ids")
    {
      return ids.map { $0 + 1 }
    }
    return nil
  }
}
