/// The tensors a draft checkpoint must hold, as a function of its `config.json`.
///
/// One copy of this knowledge serves `verify` (expected vs present), `convert` (what a
/// conversion must produce) and `diff`. Tables follow the models vLLM and speculators load
/// (vllm-project/speculators `src/speculators/models/eagle.py` and `eagle3.py`, vLLM
/// `vllm/model_executor/models/llama_eagle3.py`; the `eagle3` converter layout and the trained
/// multi-layer layout are accepted together) and SafeAILab/EAGLE `eagle/model/cnets.py` for
/// raw EAGLE drafts (`docs/formats.md`).
///
/// ```swift
/// let expected = try ExpectedTensors.speculators(config: checkpoint.config ?? .null)
/// for tensor in expected.tensors where tensor.presence == .required { ... }
/// ```
package enum ExpectedTensors {
  /// Why no table could be built: a key the table depends on is missing or has the wrong type.
  package struct Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted config paths that are missing or unusable.
    package var keys: [String]
    /// A one-line reason.
    package var reason: String

    /// Creates the error.
    package init(keys: [String], reason: String) {
      self.keys = keys
      self.reason = reason
    }

    /// The reason.
    package var description: String { reason }
  }

  /// The expected tensors of a Speculators checkpoint (`eagle` or `eagle3`) described by its
  /// `config.json`.
  ///
  /// - Throws: ``Unavailable`` when `speculators_model_type` is not `eagle`/`eagle3` or the
  ///   geometry keys of `transformer_layer_config` are missing.
  package static func speculators(config: JSONValue) throws(Unavailable) -> TensorSet {
    let model = ModelConfig(config)
    guard let type = model.speculatorsModelType else {
      throw Unavailable(keys: ["speculators_model_type"], reason: "speculators_model_type is missing")
    }
    switch type {
    case "eagle":
      let geometry = try Geometry.speculators(model, algorithm: .speculatorsEagle)
      return eagleTable(geometry: geometry, flags: speculatorsFlags(model))
    case "eagle3":
      let geometry = try Geometry.speculators(model, algorithm: .speculatorsEagle3)
      return eagle3Table(geometry: geometry, flags: speculatorsFlags(model))
    case "peagle":
      let geometry = try Geometry.speculators(model, algorithm: .speculatorsEagle3)
      return peagleTable(geometry: geometry, flags: speculatorsFlags(model))
    case "dflash", "dflash2", "dspark":
      let geometry = try Geometry.speculators(model, algorithm: .speculatorsDFlash)
      return dflashTable(geometry: geometry, flags: speculatorsFlags(model), variant: DFlashVariant(type, model))
    case "mtp":
      let geometry = try Geometry.speculators(model, algorithm: .speculatorsMTP)
      return mtpTable(geometry: geometry, flags: speculatorsFlags(model))
    default:
      throw Unavailable(
        keys: ["speculators_model_type"],
        reason: "no tensor table for speculators_model_type '\(type)' "
          + "(eagle, eagle3, peagle, dflash, dflash2, dspark and mtp have one)")
    }
  }

  /// The expected tensors of a raw (unconverted) EAGLE-family draft with the given `layout`,
  /// read from the draft's own Llama-style `config.json`.
  ///
  /// Raw layouts have no feature flags in their configs, so tensors whose presence depends on
  /// training choices (`fc.bias`, HASS norms, `embed_tokens`, `d2t`/`t2d`) are optional.
  package static func source(_ layout: Layout, config: JSONValue) throws(Unavailable) -> TensorSet {
    let model = ModelConfig(config)
    let geometry = try Geometry.source(model, layout: layout)
    switch layout {
    case .eagle1Source: return eagle1SourceTable(geometry: geometry)
    case .eagle3Source, .eagle3MidlayerSource: return eagle3SourceTable(geometry: geometry, layout: layout)
    case .eagle3ResearchSource: return eagle3ResearchTable(geometry: geometry)
    case .speculatorsEagle: return eagleTable(geometry: geometry, flags: [:])
    case .speculatorsEagle3: return eagle3Table(geometry: geometry, flags: [:])
    case .dflashSource: return dflashSourceTable(geometry: geometry)
    case .speculatorsDFlash:
      return dflashTable(geometry: geometry, flags: [:], variant: .dflash)
    case .speculatorsMTP: return mtpTable(geometry: geometry, flags: [:])
    }
  }

  /// The feature flags of a Speculators config, each `false` when absent.
  static func speculatorsFlags(_ model: ModelConfig) -> [Flag: Bool] {
    var flags: [Flag: Bool] = [:]
    for flag in Flag.allCases {
      flags[flag] = flag.isEnabled(in: model)
    }
    return flags
  }
}

extension ExpectedTensors {
  /// The draft layouts this module knows the tensor sets of.
  package enum Layout: String, Sendable, Hashable, CaseIterable, Codable {
    /// Speculators `eagle` (EAGLE-1/2/HASS converted): `fusion_fc.*`, `transformer.*`.
    case speculatorsEagle = "speculators-eagle"
    /// Speculators `eagle3`: `fc`, `layers.N.*`, `norm`, `lm_head`, `d2t`/`t2d`.
    case speculatorsEagle3 = "speculators-eagle3"
    /// Raw EAGLE-1/2 or HASS draft: `fc`, `layers.0.*` without input norm, optional HASS norms.
    case eagle1Source = "eagle1-source"
    /// Raw EAGLE-3 draft with the `midlayer.*` decoder (SafeAILab, SpecForge, ModelOpt v1).
    case eagle3MidlayerSource = "eagle3-midlayer-source"
    /// Raw EAGLE-3 draft with `layers.N.*` decoders (ModelOpt v2, NeMo after its `model.`
    /// prefix, Speculators configs lost).
    case eagle3Source = "eagle3-source"
    /// Raw output of Speculators `research/eagle3`: top-level `hidden_norm`, `input_layernorm`,
    /// `lm_head_layernorm` and a `layers.0.*` decoder without its input norm.
    case eagle3ResearchSource = "eagle3-research-source"
    /// Speculators `dflash` (also `dflash2`, `dspark` with their extra heads): `fc`,
    /// `hidden_norm`, `norm`, Qwen3 `layers.N.*` reading H; embedding and head optional.
    case speculatorsDFlash = "speculators-dflash"
    /// Raw z-lab DFlash draft: the Speculators `dflash` tensors (fused `qkv_proj` allowed),
    /// no embedding, no head.
    case dflashSource = "dflash-source"
    /// Speculators `mtp`: one `mtp_layers.0.*` block with `input_proj` [H, 2H].
    case speculatorsMTP = "speculators-mtp"

    /// Whether this is an EAGLE-3 layout.
    package var isEagle3: Bool {
      switch self {
      case .speculatorsEagle3, .eagle3Source, .eagle3MidlayerSource, .eagle3ResearchSource: return true
      case .speculatorsEagle, .eagle1Source, .speculatorsDFlash, .dflashSource, .speculatorsMTP: return false
      }
    }

    /// Whether this is a DFlash layout.
    package var isDFlash: Bool { self == .speculatorsDFlash || self == .dflashSource }

    /// Whether `fc` concatenates several tapped verifier states (EAGLE-3, DFlash), each of the
    /// verifier's hidden size, rather than embedding ⊕ last hidden state.
    package var fusesAuxStates: Bool { isEagle3 || isDFlash }

    /// The config key holding the aux layer ids (vLLM's "input of layer i" convention).
    package var auxLayerIDsKey: String {
      isDFlash ? "aux_hidden_state_layer_ids" : "eagle_aux_hidden_state_layer_ids"
    }

    /// Whether this is a Speculators (converted) layout.
    package var isSpeculators: Bool {
      switch self {
      case .speculatorsEagle, .speculatorsEagle3, .speculatorsDFlash, .speculatorsMTP: return true
      case .eagle1Source, .eagle3MidlayerSource, .eagle3Source, .eagle3ResearchSource, .dflashSource: return false
      }
    }
  }

  /// The element type a tensor must have.
  package enum ElementKind: String, Sendable, Hashable {
    /// Any floating-point dtype (the model's weights).
    case float
    /// `I64` (`d2t`).
    case int64
    /// `BOOL` (`t2d`).
    case bool
  }

  /// A config switch that decides whether some tensors exist.
  package enum Flag: String, Sendable, Hashable, CaseIterable, Codable {
    /// `fusion_bias` (Speculators `eagle`): `fusion_fc.bias`.
    case fusionBias = "fusion_bias"
    /// `layernorms` (Speculators `eagle`, HASS): three extra RMSNorms.
    case layernorms
    /// `norm_before_fc` (Speculators `eagle3`): `input_norm.weight` over the aux states.
    case normBeforeFC = "norm_before_fc"
    /// `fc_norm` (Speculators `eagle3`): one `fc_norm.{j}.weight` per aux state.
    case fcNorm = "fc_norm"
    /// `transformer_layer_config.model_type == "qwen3"`: `q_norm`/`k_norm` in every layer.
    case qkNorm = "transformer_layer_config.model_type"
    /// `transformer_layer_config.attention_bias`: biases on q/k/v/o.
    case attentionBias = "transformer_layer_config.attention_bias"
    /// `transformer_layer_config.mlp_bias`: biases on gate/up/down.
    case mlpBias = "transformer_layer_config.mlp_bias"

    /// The config path that sets the flag.
    package var configKey: String { rawValue }

    /// The flag's value in a Speculators config (`false` when absent).
    package func isEnabled(in model: ModelConfig) -> Bool {
      switch self {
      case .fusionBias, .layernorms, .normBeforeFC, .fcNorm:
        return model.json[rawValue]?.boolValue ?? false
      case .qkNorm:
        return model.layer?.json["model_type"]?.stringValue == "qwen3"
      case .attentionBias:
        return model.layer?.json["attention_bias"]?.boolValue ?? false
      case .mlpBias:
        return model.layer?.json["mlp_bias"]?.boolValue ?? false
      }
    }
  }

  /// When a tensor must be present.
  package enum Presence: Sendable, Hashable {
    /// Always.
    case required
    /// May be absent (for example `embed_tokens.weight` of an `eagle3` draft).
    case optional
    /// `d2t`/`t2d`: both or neither, required when the draft vocabulary is smaller than the
    /// target vocabulary. Checked by the vocabulary checks.
    case vocabMap
    /// Present exactly when `flag` is `enabled` (the flag's value in the config).
    case flag(Flag, enabled: Bool)
  }

  /// One expected tensor.
  package struct Tensor: Sendable, Hashable {
    /// The tensor's name.
    package var name: String
    /// The acceptable shapes; the first is the canonical one. More than one when two
    /// producers legitimately differ (converter `[H, 3·TH]` vs trained `[H, A·H]` for `fc`).
    package var shapes: [[Int]]
    /// The element type.
    package var kind: ElementKind
    /// When the tensor must exist.
    package var presence: Presence
    /// The decoder layer index for per-layer tensors.
    package var layer: Int?
    /// Why the shape is what it is, in words (`"[NH·HD, 2H]: layer 0 takes embedding ⊕ hidden"`).
    package var rule: String

    /// Creates an expected tensor.
    package init(
      name: String, shapes: [[Int]], kind: ElementKind = .float, presence: Presence = .required,
      layer: Int? = nil, rule: String
    ) {
      self.name = name
      var unique: [[Int]] = []
      for shape in shapes where !unique.contains(shape) { unique.append(shape) }
      self.shapes = unique
      self.kind = kind
      self.presence = presence
      self.layer = layer
      self.rule = rule
    }
  }

  /// The full expectation for one checkpoint.
  package struct TensorSet: Sendable {
    /// The layout the table describes.
    package var layout: Layout
    /// The sizes the shapes were computed from.
    package var geometry: Geometry
    /// Flag values as read from the config (empty for raw layouts).
    package var flags: [Flag: Bool]
    /// Every tensor that may appear, in a stable order.
    package var tensors: [Tensor]
    /// The name prefix of decoder layer `i` is `layerPrefix + "\(i)."`; for `midlayer` and
    /// `transformer` layouts (one layer, no index) this is the full prefix and
    /// ``indexedLayers`` is `false`.
    package var layerPrefix: String
    /// Whether layer names carry an index (`layers.N.`).
    package var indexedLayers: Bool

    private var byName: [String: Int]

    /// Creates a table.
    package init(
      layout: Layout, geometry: Geometry, flags: [Flag: Bool], tensors: [Tensor], layerPrefix: String,
      indexedLayers: Bool
    ) {
      self.layout = layout
      self.geometry = geometry
      self.flags = flags
      self.tensors = tensors
      self.layerPrefix = layerPrefix
      self.indexedLayers = indexedLayers
      self.byName = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The expected tensor named `name`, if the table has one.
    package func tensor(named name: String) -> Tensor? {
      byName[name].map { tensors[$0] }
    }

    /// The decoder layer index of a tensor name (`layers.3.mlp...` → 3), when the layout uses
    /// indexed layers; `nil` otherwise.
    package func layerIndex(of name: String) -> Int? {
      guard indexedLayers, name.hasPrefix(layerPrefix) else { return nil }
      let rest = name.dropFirst(layerPrefix.count)
      guard let dot = rest.firstIndex(of: "."), dot > rest.startIndex else { return nil }
      let digits = rest[rest.startIndex..<dot]
      guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
        digits.count == 1 || digits.first != "0"
      else { return nil }
      return Int(digits)
    }
  }
}
