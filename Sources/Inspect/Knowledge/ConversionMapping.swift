/// How the tensors of a research draft map onto the Speculators format, by name.
///
/// One copy of the rules, shared by `convert` (which writes the renamed tensors), `diff
/// --mapping auto` (which lines a source up with its conversion) and `verify`. The rules are
/// those of the reference converter (vllm-project/speculators
/// `src/speculators/convert/eagle/`; `docs/convert.md`), with the
/// project's stricter policy on top: every source tensor either lands in the output or is
/// reported as dropped with a reason, and a tensor the layout does not know is an error unless
/// the caller allows dropping it.
///
/// `eagle` (EAGLE v1/v2, HASS):
/// - `embed_tokens.weight` and `lm_head.weight` are dropped (the verifier provides them);
/// - `fc.*` → `fusion_fc.*`, `layers.0.*` → `transformer.*`;
/// - `fusion_bias` = `fc.bias` present (or forced); `layernorms` = `embed_layernorm.weight` or
///   `post_embedding_layernorm.weight` present (or forced);
/// - with layernorms: `embed_layernorm.weight` (alias `post_embedding_layernorm.weight`) →
///   `embedding_layernorm.weight`, `hidden_layernorm.weight` → `transformer.input_layernorm.weight`,
///   `lm_head_layernorm.weight` → `pre_lm_head_layernorm.weight`; norms the source lacks are
///   synthesised as ones (what the reference model's RMSNorm initialisation saves);
/// - without layernorms `hidden_layernorm.weight` is dropped, as the reference converter does;
/// - a forced `fusion_bias` without `fc.bias` synthesises a zero bias (the reference saves a
///   random initialisation there).
///
/// `eagle3` (EAGLE-3, SpecForge, multi-layer drafts):
/// - `midlayer.*` → `layers.0.*`; every `layers.N.*` is kept (multi-layer drafts keep all layers);
/// - `embed_tokens.weight`, `fc.weight`, `norm.weight`, `lm_head.weight`, `d2t`, `t2d`,
///   `input_norm.weight` (`norm_before_fc`) and `fc_norm.N.weight` (`fc_norm`) keep their names;
/// - a missing `embed_tokens.weight` is listed in ``Plan/verifierTensors``: it comes from the
///   verifier's weights.
///
/// `dflash` (z-lab DFlash, speculators 0.9.0 `convert/dflash/converter.py`):
/// - `fc.weight`, `hidden_norm.weight`, `norm.weight` and every `layers.N.*` decoder tensor keep
///   their names;
/// - a Laguna-style fused `layers.N.self_attn.qkv_proj.*` is split into `q_proj`, `k_proj`,
///   `v_proj` (``Plan/splits``; the row counts come from the config), and its `g_proj.*` and
///   the top-level `aux_hidden_norms.*` are dropped (no DFlash equivalent);
/// - `embed_tokens.weight`, `lm_head.weight`, `d2t` and `t2d` are dropped: vLLM shares the
///   verifier's embedding and head, and `draft_vocab_size` is the full vocabulary.
package enum ConversionMapping {
  /// Caller choices that change the mapping.
  package struct Options: Sendable, Hashable {
    /// eagle: force the HASS layernorms on (a flag can force `true`, never `false`).
    package var layernorms: Bool
    /// eagle: force the fusion bias on.
    package var fusionBias: Bool
    /// Tensor names the caller allows to drop: exact names, or a prefix ending in `*`.
    package var allowDrop: [String]
    /// Drop every tensor the layout does not know instead of failing.
    package var dropUnknown: Bool

    /// Creates options; the defaults map exactly what the layout knows and fail otherwise.
    package init(
      layernorms: Bool = false, fusionBias: Bool = false, allowDrop: [String] = [],
      dropUnknown: Bool = false
    ) {
      self.layernorms = layernorms
      self.fusionBias = fusionBias
      self.allowDrop = allowDrop
      self.dropUnknown = dropUnknown
    }
  }

  /// A source tensor copied to the output under `output`.
  package struct Rename: Sendable, Hashable {
    /// The source tensor's name.
    package var source: String
    /// The Speculators name.
    package var output: String
  }

  /// A source tensor that does not reach the output.
  package struct Drop: Sendable, Hashable {
    /// The source tensor's name.
    package var name: String
    /// Why it is dropped.
    package var reason: String
    /// Whether the caller asked for it (`allowDrop` / `dropUnknown`) rather than the layout rule.
    package var requested: Bool
  }

  /// The value an output tensor that has no source is filled with.
  package enum Fill: String, Sendable, Hashable {
    /// All ones (an untrained RMSNorm weight).
    case ones
    /// All zeros (a bias that changes nothing).
    case zeros
  }

  /// An output tensor made by the converter because a flag asks for it and the source lacks it.
  package struct Synthesis: Sendable, Hashable {
    /// The Speculators name.
    package var output: String
    /// What it is filled with.
    package var fill: Fill
    /// Why it is made (the converter sizes it from the config).
    package var reason: String
  }

  /// A fused source tensor cut along its first dimension into consecutive output tensors
  /// (DFlash `qkv_proj` → `q_proj`, `k_proj`, `v_proj`); the converter sizes the pieces.
  package struct Split: Sendable, Hashable {
    /// The source tensor's name.
    package var source: String
    /// The output names, in row order.
    package var outputs: [String]
  }

  /// Feature flags read from the tensor names (and forced by options).
  package struct Flags: Sendable, Hashable {
    /// eagle: `fusion_fc.bias` is present (or forced).
    package var fusionBias = false
    /// eagle: the HASS layernorms are present (or forced).
    package var layernorms = false
    /// eagle3: `input_norm.weight` is present.
    package var normBeforeFC = false
    /// eagle3: `fc_norm.N.weight` tensors are present.
    package var fcNorm = false
    /// eagle3, dflash: decoder layers found (`midlayer` counts as layer 0); eagle: always 1.
    package var layerCount = 0
  }

  /// The full name-level plan of a conversion.
  package struct Plan: Sendable, Hashable {
    /// The algorithm the plan is for.
    package var algorithm: ConversionAlgorithm
    /// Source tensors copied to the output, sorted by output name.
    package var renames: [Rename]
    /// Source tensors left out, sorted by name.
    package var dropped: [Drop]
    /// Output tensors the converter creates (forced flags), sorted by output name.
    package var synthesized: [Synthesis]
    /// Output tensors that come from the verifier's weights (eagle3 `embed_tokens.weight`).
    package var verifierTensors: [String]
    /// Fused source tensors cut into several outputs (dflash), sorted by source name.
    package var splits: [Split] = []
    /// Feature flags.
    package var flags: Flags
    /// Notes worth showing to the user (a dropped trained weight, a forced flag).
    package var warnings: [String]
    /// The usage error for an `allowDrop` pattern that matches no source tensor. The plan is
    /// then unfinished: ``checked()`` throws this.
    package var unmatchedAllowDrop: UsageError? = nil

    /// The plan, once no `allowDrop` pattern is left unmatched.
    ///
    /// - Throws: ``unmatchedAllowDrop``.
    package func checked() throws(UsageError) -> Plan {
      if let unmatchedAllowDrop { throw unmatchedAllowDrop }
      return self
    }

    /// The Speculators name a source tensor maps to, or `nil` when it is dropped or unknown.
    package func outputName(for source: String) -> String? {
      renames.first(where: { $0.source == source })?.output
    }

    /// Every output tensor name: renamed, synthesised and copied from the verifier, sorted.
    package var outputNames: [String] {
      (renames.map(\.output) + synthesized.map(\.output) + verifierTensors + splits.flatMap(\.outputs)).sorted()
    }
  }

  /// Plans the conversion of `checkpoint`'s tensors.
  package static func plan(
    for checkpoint: Checkpoint, algorithm: ConversionAlgorithm, options: Options = Options()
  ) throws(CheckpointError) -> Plan {
    try plan(
      tensorNames: checkpoint.tensors.map(\.name), algorithm: algorithm, options: options,
      location: checkpoint.location)
  }

  /// Plans the conversion of a checkpoint holding `tensorNames`; `location` names it in errors.
  ///
  /// - Throws: ``CheckpointError`` (`.unsupported`) when tensors are unknown to the layout
  ///   and not allowed to drop, when two source tensors map to one output name, or when
  ///   layers are not numbered `0..<n`. An `allowDrop` pattern that matches nothing ends the
  ///   plan early with ``Plan/unmatchedAllowDrop`` set (callers that take the patterns from
  ///   their user call ``Plan/checked()``).
  package static func plan(
    tensorNames: [String], algorithm: ConversionAlgorithm, options: Options = Options(),
    location: String
  ) throws(CheckpointError) -> Plan {
    var builder = PlanBuilder(algorithm: algorithm, options: options, location: location)
    var names = Set(tensorNames)
    for name in names where isRecomputedBuffer(name) {
      names.remove(name)
      builder.drop(
        name,
        "rotary_emb.inv_freq is a non-persistent buffer older transformers saved; vLLM recomputes it from "
          + "the rope settings")
    }
    switch algorithm {
    case .eagle: builder.mapEagle(names)
    case .eagle3: try builder.mapEagle3(names)
    case .dflash: try builder.mapDFlash(names)
    }
    return try builder.finish(tensorNames: tensorNames)
  }

  /// Whether `name` is a buffer the model recomputes at load time rather than a weight:
  /// `…rotary_emb.inv_freq`, which transformers before 4.31 saved with the weights.
  package static func isRecomputedBuffer(_ name: String) -> Bool {
    name == "rotary_emb.inv_freq" || name.hasSuffix(".rotary_emb.inv_freq")
  }

  /// Tensor-name suffixes a Llama/Qwen decoder layer may carry (below `layers.N.`).
  package static let decoderSuffixes: Set<String> = {
    var names: Set<String> = [
      "input_layernorm.weight", "post_attention_layernorm.weight", "hidden_norm.weight",
      "self_attn.q_norm.weight", "self_attn.k_norm.weight",
    ]
    for projection in [
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
      "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
    ] {
      names.insert(projection + ".weight")
      names.insert(projection + ".bias")
    }
    return names
  }()

  /// Whether `name` matches an `allowDrop` pattern (exact, or a prefix ending in `*`).
  package static func matches(_ name: String, pattern: String) -> Bool {
    if pattern.hasSuffix("*") { return name.hasPrefix(String(pattern.dropLast())) }
    return name == pattern
  }

  /// Splits `layers.N.rest` into `(N, rest)`.
  package static func layerIndex(of name: String, prefix: String = "layers.") -> (Int, String)? {
    guard name.hasPrefix(prefix) else { return nil }
    let tail = name.dropFirst(prefix.count)
    guard let dot = tail.firstIndex(of: ".") else { return nil }
    let digits = tail[..<dot]
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
      digits.count < 10, let index = Int(digits)
    else { return nil }
    return (index, String(tail[tail.index(after: dot)...]))
  }
}

/// Accumulates a plan; one per call of ``ConversionMapping/plan(tensorNames:algorithm:options:location:)``.
private struct PlanBuilder {
  typealias Mapping = ConversionMapping
  let algorithm: ConversionAlgorithm
  let options: Mapping.Options
  let location: String
  var renames: [Mapping.Rename] = []
  var dropped: [Mapping.Drop] = []
  var synthesized: [Mapping.Synthesis] = []
  var verifierTensors: [String] = []
  var splits: [Mapping.Split] = []
  var flags = Mapping.Flags()
  var warnings: [String] = []
  /// Tensors no rule knows (or that a rule cannot place), with the reason.
  var unplaced: [(name: String, reason: String)] = []

  init(algorithm: ConversionAlgorithm, options: Mapping.Options, location: String) {
    self.algorithm = algorithm
    self.options = options
    self.location = location
  }

  private func explicitlyAllowed(_ name: String) -> Bool {
    options.allowDrop.contains { Mapping.matches(name, pattern: $0) }
  }

  mutating func rename(_ source: String, _ output: String) {
    if explicitlyAllowed(source) {
      dropped.append(
        .init(name: source, reason: "dropped at the user's request (--allow-drop)", requested: true))
    } else {
      renames.append(.init(source: source, output: output))
    }
  }

  mutating func drop(_ name: String, _ reason: String) {
    dropped.append(.init(name: name, reason: reason, requested: explicitlyAllowed(name)))
  }

  mutating func unplace(_ name: String, _ reason: String) {
    if explicitlyAllowed(name) {
      dropped.append(
        .init(name: name, reason: "\(reason); dropped at the user's request (--allow-drop)", requested: true))
    } else if options.dropUnknown {
      dropped.append(
        .init(
          name: name, reason: "\(reason); dropped at the user's request (--drop-unknown)", requested: true))
    } else {
      unplaced.append((name, reason))
    }
  }

  // MARK: eagle

  mutating func mapEagle(_ names: Set<String>) {
    let detectedBias = names.contains("fc.bias")
    let detectedNorms =
      names.contains("embed_layernorm.weight") || names.contains("post_embedding_layernorm.weight")
    flags.fusionBias = options.fusionBias || detectedBias
    flags.layernorms = options.layernorms || detectedNorms
    flags.layerCount = 1
    let layernorms = flags.layernorms
    for name in names.sorted() {
      switch name {
      case "embed_tokens.weight":
        drop(name, "eagle drafts take embeddings from the verifier")
      case "lm_head.weight", "lm_head.bias":
        drop(name, "eagle drafts use the verifier's lm_head")
      case "fc.weight", "fc.bias":
        rename(name, "fusion_" + name)
      case "embed_layernorm.weight", "post_embedding_layernorm.weight":
        rename(name, "embedding_layernorm.weight")
      case "hidden_layernorm.weight":
        if layernorms {
          rename(name, "transformer.input_layernorm.weight")
        } else {
          drop(
            name,
            "layernorms is off (no embed_layernorm.weight), so the Speculators eagle model has no hidden norm"
          )
          warnings.append(
            "dropped trained tensor 'hidden_layernorm.weight' (layernorms is off), as the reference converter does"
          )
        }
      case "lm_head_layernorm.weight":
        if layernorms {
          rename(name, "pre_lm_head_layernorm.weight")
        } else {
          unplace(
            name,
            "the eagle layout has no pre-lm_head norm while layernorms is off (pass {\"layernorms\": true} to keep it)"
          )
        }
      default:
        if let (index, suffix) = Mapping.layerIndex(of: name), index == 0,
          Mapping.decoderSuffixes.contains(suffix), suffix != "hidden_norm.weight"
        {
          if suffix == "input_layernorm.weight" && !layernorms {
            unplace(
              name,
              "the eagle decoder layer has no input norm while layernorms is off (the reference converter drops it)"
            )
          } else {
            rename(name, "transformer." + suffix)
          }
        } else {
          unplace(name, "not part of the eagle layout")
        }
      }
    }
    let mapped = Set(renames.map(\.output))
    if layernorms {
      for output in [
        "embedding_layernorm.weight", "transformer.input_layernorm.weight", "pre_lm_head_layernorm.weight",
      ]
      where !mapped.contains(output) {
        synthesized.append(
          .init(output: output, fill: .ones, reason: "layernorms is on and the source has no such norm"))
        warnings.append(
          "'\(output)' is not in the source: written as ones (an untrained RMSNorm), as the reference converter saves it"
        )
      }
    }
    if flags.fusionBias && !mapped.contains("fusion_fc.bias") {
      synthesized.append(
        .init(
          output: "fusion_fc.bias", fill: .zeros,
          reason: "fusion_bias is forced on and the source has no fc.bias"))
      warnings.append(
        "'fusion_fc.bias' is not in the source: written as zeros (the fusion layer is unchanged)")
    }
  }

  // MARK: eagle3

  mutating func mapEagle3(_ names: Set<String>) throws(CheckpointError) {
    let kept: Set<String> = [
      "embed_tokens.weight", "fc.weight", "norm.weight", "lm_head.weight", "d2t", "t2d",
    ]
    var layers = Set<Int>()
    for name in names.sorted() {
      if kept.contains(name) {
        rename(name, name)
      } else if name == "input_norm.weight" {
        rename(name, name)
      } else if let (_, suffix) = Mapping.layerIndex(of: name, prefix: "fc_norm."), suffix == "weight" {
        rename(name, name)
      } else if name.hasPrefix("midlayer."), Mapping.decoderSuffixes.contains(String(name.dropFirst(9))) {
        rename(name, "layers.0." + name.dropFirst(9))
      } else if let (_, suffix) = Mapping.layerIndex(of: name), Mapping.decoderSuffixes.contains(suffix) {
        rename(name, name)
      } else {
        unplace(name, "not part of the eagle3 layout")
      }
    }
    // Flags and layers from what actually reaches the output (a tensor dropped on request
    // does not turn its feature on).
    let outputs = renames.map(\.output)
    flags.normBeforeFC = outputs.contains("input_norm.weight")
    flags.fcNorm = outputs.contains { Mapping.layerIndex(of: $0, prefix: "fc_norm.") != nil }
    layers = Set(outputs.compactMap { Mapping.layerIndex(of: $0)?.0 })
    if !outputs.contains("embed_tokens.weight") {
      verifierTensors.append("embed_tokens.weight")
    }
    flags.layerCount = layers.count
    try requireNumberedFromZero(layers)
  }

  // MARK: dflash

  mutating func mapDFlash(_ names: Set<String>) throws(CheckpointError) {
    let sharedFromVerifier = "DFlash drafts share the verifier's embedding and lm_head in vLLM; not written"
    var layers = Set<Int>()
    for name in names.sorted() {
      switch name {
      case "fc.weight", "hidden_norm.weight", "norm.weight":
        rename(name, name)
      case "embed_tokens.weight", "lm_head.weight":
        drop(name, sharedFromVerifier)
      case "d2t", "t2d":
        drop(name, "draft_vocab_size is the full vocabulary, so no vocabulary map is written")
      default:
        if name.hasPrefix("aux_hidden_norms.") {
          drop(name, "per-target-layer norm with no DFlash equivalent (dropped as speculators 0.9.0 does)")
          continue
        }
        guard let (index, suffix) = Mapping.layerIndex(of: name) else {
          unplace(name, "not part of the dflash layout")
          continue
        }
        if suffix.hasPrefix("self_attn.g_proj.") {
          drop(name, "attention gate with no DFlash equivalent (dropped as speculators 0.9.0 does)")
        } else if suffix == "self_attn.qkv_proj.weight" || suffix == "self_attn.qkv_proj.bias" {
          let kind = suffix.hasSuffix(".weight") ? "weight" : "bias"
          let outputs = ["q_proj", "k_proj", "v_proj"].map { "layers.\(index).self_attn.\($0).\(kind)" }
          if let conflict = outputs.first(where: names.contains) {
            throw CheckpointError(
              .unsupported, file: location, tensor: name,
              reason: "the checkpoint has both this fused projection and '\(conflict)'")
          }
          if explicitlyAllowed(name) {
            dropped.append(.init(name: name, reason: "dropped at the user's request (--allow-drop)", requested: true))
          } else {
            splits.append(.init(source: name, outputs: outputs))
            layers.insert(index)
          }
        } else if Mapping.decoderSuffixes.contains(suffix), suffix != "hidden_norm.weight" {
          rename(name, name)
        } else {
          unplace(name, "not part of the dflash layout")
        }
      }
    }
    if dropped.contains(where: { !$0.requested && ($0.name.hasPrefix("aux_hidden_norms.") || $0.name.contains(".g_proj.")) }) {
      warnings.append(
        "dropped trained Laguna tensors (g_proj, aux_hidden_norms) that the DFlash model has no place for, "
          + "as speculators 0.9.0 does")
    }
    layers.formUnion(renames.compactMap { Mapping.layerIndex(of: $0.output)?.0 })
    flags.layerCount = layers.count
    try requireNumberedFromZero(layers)
  }

  /// Decoder layers must be numbered `0..<n`.
  func requireNumberedFromZero(_ layers: Set<Int>) throws(CheckpointError) {
    guard let highest = layers.max(), highest + 1 != layers.count else { return }
    let missing = (0...highest).filter { !layers.contains($0) }.map(String.init).joined(separator: ", ")
    throw CheckpointError(
      .unsupported, file: location,
      reason: "decoder layers are not numbered 0..<\(highest + 1): layer \(missing) missing")
  }

  // MARK: finish

  mutating func finish(tensorNames: [String]) throws(CheckpointError) -> Mapping.Plan {
    for pattern in options.allowDrop
    where !tensorNames.contains(where: { Mapping.matches($0, pattern: pattern) }) {
      var plan = built()
      plan.unmatchedAllowDrop = UsageError(location, reason: "--allow-drop '\(pattern)' matches no tensor of the source")
      return plan
    }
    if !unplaced.isEmpty {
      let list = unplaced.prefix(8).map { "'\($0.name)' (\($0.reason))" }.joined(separator: ", ")
      let more = unplaced.count > 8 ? " and \(unplaced.count - 8) more" : ""
      let noun = unplaced.count == 1 ? "tensor" : "tensors"
      // When most tensors have no place the source is not this layout at all: dropping them
      // would write an empty draft, so no drop option is suggested.
      let advice =
        unplaced.count * 2 > tensorNames.count
          ? "the source does not have the \(algorithm.rawValue) layout (\(unplaced.count) of \(tensorNames.count) "
            + "tensors fit nowhere); check --algorithm"
          : "pass --allow-drop NAME (or --drop-unknown) to drop them"
      throw CheckpointError(
        .unsupported, file: location,
        reason:
          "\(unplaced.count) \(noun) cannot be placed in the \(algorithm.rawValue) layout: \(list)\(more); "
          + advice)
    }
    var byOutput: [String: String] = [:]
    for rename in renames {
      if let other = byOutput[rename.output] {
        throw CheckpointError(
          .unsupported, file: location, tensor: rename.output,
          reason:
            "both '\(other)' and '\(rename.source)' map to this name; pass --allow-drop with one of them")
      }
      byOutput[rename.output] = rename.source
    }
    return built()
  }

  /// The plan as built so far.
  private func built() -> Mapping.Plan {
    Mapping.Plan(
      algorithm: algorithm,
      renames: renames.sorted { $0.output < $1.output },
      dropped: dropped.sorted { $0.name < $1.name },
      synthesized: synthesized.sorted { $0.output < $1.output },
      verifierTensors: verifierTensors,
      splits: splits.sorted { $0.source < $1.source },
      flags: flags,
      warnings: warnings)
  }
}
