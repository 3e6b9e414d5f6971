import Inspect

/// Checks of a Speculators `config.json` against what vLLM and speculators read
/// (vLLM `vllm/transformers_utils/configs/speculators/`,
/// speculators `src/speculators/config.py`; `docs/checks.md`): required keys, key types, type/algorithm
/// agreement, and the defaults readers disagree on. Header only.
enum ConfigChecks {
  /// The JSON type a key must have.
  enum Requirement {
    case string
    case object
    case nonEmptyArray
    case stringArray
    case positiveInt
    case nonNegativeInt
    case bool
    case optionalPositiveInt
    case optionalIntArray
    case nonEmptyString
    case positiveNumber
    case number
    case optionalObject
    case oneOf([String])

    var text: String {
      switch self {
      case .string: return "a string"
      case .object: return "an object"
      case .nonEmptyArray: return "a non-empty array"
      case .stringArray: return "an array of strings"
      case .positiveInt: return "a positive integer"
      case .nonNegativeInt: return "a non-negative integer"
      case .bool: return "a boolean"
      case .optionalPositiveInt: return "a positive integer or null"
      case .optionalIntArray: return "an array of integers or null"
      case .nonEmptyString: return "a non-empty string"
      case .positiveNumber: return "a positive number"
      case .number: return "a number"
      case .optionalObject: return "an object or null"
      case .oneOf(let values): return "one of " + values.joined(separator: ", ")
      }
    }

    func accepts(_ value: JSONValue) -> Bool {
      switch self {
      case .string: return value.stringValue != nil
      case .object: return value.objectMembers != nil
      case .nonEmptyArray: return (value.arrayValue?.isEmpty ?? true) == false
      case .stringArray: return value.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false
      case .positiveInt:
        if case .int(let i) = value { return i > 0 }
        return false
      case .nonNegativeInt:
        if case .int(let i) = value { return i >= 0 }
        return false
      case .bool: return value.boolValue != nil
      case .optionalPositiveInt:
        if value.isNull { return true }
        if case .int(let i) = value { return i > 0 }
        return false
      case .optionalIntArray:
        if value.isNull { return true }
        return value.arrayValue?.allSatisfy { if case .int = $0 { return true } else { return false } }
          ?? false
      case .nonEmptyString: return !(value.stringValue?.isEmpty ?? true)
      case .positiveNumber: return (value.doubleValue ?? 0) > 0
      case .number: return value.doubleValue != nil
      case .optionalObject: return value.isNull || value.objectMembers != nil
      case .oneOf(let values): return value.stringValue.map(values.contains) ?? false
      }
    }
  }

  /// The result of looking up a dotted path.
  enum Lookup {
    /// The value at the path.
    case value(JSONValue)
    /// The path is absent (or explicitly null); `parentMissing` when an ancestor was absent.
    case absent(isNull: Bool, parentMissing: Bool)
  }

  /// Speculators keys as readers require them (vLLM `validate_speculators_config` plus
  /// speculators' pydantic models).
  static let requiredKeys: [(String, Requirement)] = [
    ("speculators_model_type", .string),
    ("speculators_config", .object),
    ("speculators_config.algorithm", .string),
    ("speculators_config.proposal_methods", .nonEmptyArray),
    ("speculators_config.proposal_methods[0].proposal_type", .oneOf(proposalTypes)),
    ("speculators_config.proposal_methods[0].speculative_tokens", .positiveInt),
    ("speculators_config.default_proposal_method", .string),
    ("speculators_config.verifier", .object),
    ("speculators_config.verifier.name_or_path", .nonEmptyString),
    ("speculators_config.verifier.architectures", .stringArray),
    ("transformer_layer_config", .object),
    ("transformer_layer_config.hidden_size", .positiveInt),
    ("transformer_layer_config.intermediate_size", .positiveInt),
    ("transformer_layer_config.num_attention_heads", .positiveInt),
    ("transformer_layer_config.num_hidden_layers", .positiveInt),
    ("transformer_layer_config.vocab_size", .positiveInt),
  ]

  /// Keys that may be absent but must have the right type when present.
  static let typedOptionalKeys: [(String, Requirement)] = [
    ("speculators_config.proposal_methods[0].verifier_accept_k", .positiveInt),
    ("speculators_config.proposal_methods[0].accept_tolerance", .number),
    ("transformer_layer_config.model_type", .string),
    ("transformer_layer_config.max_position_embeddings", .positiveInt),
    ("transformer_layer_config.rms_norm_eps", .positiveNumber),
    ("transformer_layer_config.rope_theta", .positiveNumber),
    ("transformer_layer_config.rope_scaling", .optionalObject),
    ("transformer_layer_config.num_key_value_heads", .positiveInt),
    ("transformer_layer_config.head_dim", .positiveInt),
    ("transformer_layer_config.attention_bias", .bool),
    ("transformer_layer_config.mlp_bias", .bool),
  ]

  static let eagleOptionalKeys: [(String, Requirement)] = [
    ("fusion_bias", .bool), ("layernorms", .bool),
  ]

  static let eagle3OptionalKeys: [(String, Requirement)] = [
    ("norm_before_residual", .bool), ("norm_before_fc", .bool), ("fc_norm", .bool), ("norm_output", .bool),
    ("target_hidden_size", .optionalPositiveInt), ("eagle_aux_hidden_state_layer_ids", .optionalIntArray),
    ("embed_requires_grad", .bool),
  ]

  /// Proposal types speculators registers (v0.1.0; HEAD keeps only greedy).
  static let proposalTypes = ["greedy", "sampling", "static_tree", "dynamic_tree"]

  /// Speculators types with a tensor table (`ExpectedTensors.speculators(config:)`).
  static let tabulatedTypes: Set<String> = ["eagle", "eagle3", "peagle", "dflash", "dflash2", "dspark", "mtp"]
  /// Types of the EAGLE-3 family (the eagle3 keys and flags apply).
  static let eagle3Types: Set<String> = ["eagle3", "peagle"]
  /// Other Speculators types (no tensor table here).
  static let otherSpeculatorsTypes: Set<String> = ["independent", "mlp"]

  /// `config.present`: returns whether a config object is available for further checks.
  static func checkPresence(_ run: VerificationRun) -> Bool {
    run.ran(.configPresent)
    guard let config = run.checkpoint.config else {
      run.report(
        .configPresent, .error, file: "config.json", expected: "a config.json next to the weights",
        found: "absent", "config.json: expected next to the weights, found absent")
      return false
    }
    guard config.objectMembers != nil else {
      run.report(
        .configPresent, .error, file: "config.json", expected: "a JSON object", found: config.typeName,
        "config.json: expected a JSON object, found \(config.typeName)")
      return false
    }
    return true
  }

  /// `config.value-bounds`: every bounded size and count of `config` (``ConfigBounds``) is an
  /// integer inside its bounds. `file` is the config's file, `owner` says whose it is in the
  /// message ("" for the draft's own).
  static func checkBounds(_ run: VerificationRun, _ config: JSONValue, file: String, owner: String = "") {
    run.ran(.configValueBounds)
    for violation in ConfigBounds.violations(in: config) {
      run.report(
        .configValueBounds, .error, key: violation.path, file: file, expected: violation.expected,
        found: violation.found, owner + violation.message)
    }
  }

  /// `config.attention-heads`: the attention heads split the hidden size when `head_dim` is
  /// absent, and the key/value heads split the attention heads. `layer` is the config holding
  /// the layer geometry (`transformer_layer_config`, or the draft's own config), `prefix` its
  /// key path.
  static func checkAttentionHeads(_ run: VerificationRun, layer: ModelConfig, prefix: String) {
    run.ran(.configAttentionHeads)
    guard let heads = layer.numAttentionHeads else { return }
    if layer.int("head_dim") == nil, layer.value("head_dim") == nil, let hidden = layer.hiddenSize,
      hidden % heads != 0
    {
      run.report(
        .configAttentionHeads, .error, key: prefix + "num_attention_heads",
        expected: "a divisor of hidden_size \(hidden)", found: String(heads),
        "\(prefix)num_attention_heads: expected a divisor of hidden_size \(hidden) (head_dim is absent, so "
          + "readers take hidden_size / num_attention_heads), found \(heads)")
    }
    if let kvHeads = layer.int("num_key_value_heads"), heads % kvHeads != 0 {
      run.report(
        .configAttentionHeads, .error, key: prefix + "num_key_value_heads",
        expected: "a divisor of num_attention_heads \(heads)", found: String(kvHeads),
        "\(prefix)num_key_value_heads: expected a divisor of num_attention_heads \(heads), found \(kvHeads)")
    }
  }

  /// Every Speculators config check. `type` is `speculators_model_type` when present.
  static func checkSpeculators(_ run: VerificationRun, type: String?) {
    guard let config = run.config else { return }
    checkTopLevelModelType(run, config)
    checkKeys(run, config, type: type)
    checkModelType(run, config, type: type)
    let isEagle3 = type.map(eagle3Types.contains) ?? false
    let isEagle = type == "eagle"
    if isEagle || isEagle3 {
      checkLayerModelType(run, config, isEagle3: isEagle3)
    }
    checkDefaultProposal(run, config)
    if isEagle3 {
      checkNormBeforeResidual(run, config)
      checkExclusiveFlags(run, config)
      checkAuxLayerIDs(run, config, key: "eagle_aux_hidden_state_layer_ids")
    } else if let type, DFlashConfigChecks.dflashTypes.contains(type) {
      checkAuxLayerIDs(run, config, key: "aux_hidden_state_layer_ids")
    }
    DFlashConfigChecks.check(run, config, type: type)
    checkVerifierPath(run, config)
  }

  private static func checkTopLevelModelType(_ run: VerificationRun, _ config: JSONValue) {
    run.ran(.configTopLevelModelType)
    if let value = config["model_type"], !value.isNull {
      run.report(
        .configTopLevelModelType, .error, key: "model_type", expected: "absent", found: describe(value),
        "model_type: expected absent at the top level of a Speculators config, found \(describe(value)) "
          + "(vLLM then loads it as a plain model, not through the speculators path)")
    }
  }

  private static func checkKeys(_ run: VerificationRun, _ config: JSONValue, type: String?) {
    run.ran(.configRequiredKeys, .configKeyTypes)
    var required = requiredKeys
    if let type, eagle3Types.contains(type) { required.append(("draft_vocab_size", .positiveInt)) }
    if let type { required += DFlashConfigChecks.requiredKeys(type: type) }
    for (path, requirement) in required {
      switch lookup(config, path) {
      case .absent(let isNull, let parentMissing):
        if parentMissing { continue }
        let found = isNull ? "null" : "absent"
        run.report(
          .configRequiredKeys, .error, key: path, expected: requirement.text, found: found,
          "\(path): expected \(requirement.text), found \(found)\(consequence(of: path))")
      case .value(let value):
        if !requirement.accepts(value) {
          reportType(run, path, requirement, value)
        }
      }
    }
    var optional = typedOptionalKeys
    if type == "eagle" { optional += eagleOptionalKeys }
    if let type, eagle3Types.contains(type) { optional += eagle3OptionalKeys }
    if let type, DFlashConfigChecks.dflashTypes.contains(type) { optional += DFlashConfigChecks.optionalKeys }
    for (path, requirement) in optional {
      if case .value(let value) = lookup(config, path), !requirement.accepts(value) {
        reportType(run, path, requirement, value)
      }
    }
  }

  private static func reportType(
    _ run: VerificationRun, _ path: String, _ requirement: Requirement, _ value: JSONValue
  ) {
    run.report(
      .configKeyTypes, .error, key: path, expected: requirement.text, found: describe(value),
      "\(path): expected \(requirement.text), found \(describe(value))")
  }

  private static func consequence(of path: String) -> String {
    switch path {
    case "speculators_model_type": return " (speculators raises ValueError; vLLM cannot route the draft)"
    case "speculators_config.proposal_methods[0].speculative_tokens",
      "speculators_config.verifier.name_or_path", "transformer_layer_config":
      return " (vLLM's validate_speculators_config rejects the config)"
    case "draft_vocab_size":
      return " (speculators defaults it to 32000, vLLM to vocab_size)"
    case "mask_token_id", "aux_hidden_state_layer_ids":
      return " (vLLM's speculators config loader raises KeyError)"
    default: return ""
    }
  }

  /// `config.vllm-support` for an original EAGLE-1/HASS draft, which vLLM serves directly with
  /// `method: "eagle"`: HASS layernorms have no module in vLLM's EAGLE model (it refuses to load),
  /// and a `bias: true` config makes vLLM's Llama layer build q/k/v/o biases the checkpoint does
  /// not have, which stay uninitialised (docs/vllm.md: 0 of 276 drafted tokens accepted).
  static func checkOriginalEagleServing(_ run: VerificationRun) {
    run.ran(.configVLLMSupport)
    let names = Set(run.view.tensors.map(\.name))
    if let norm = ["embed_layernorm.weight", "hidden_layernorm.weight", "lm_head_layernorm.weight"]
      .first(where: names.contains)
    {
      run.report(
        .configVLLMSupport, .error, tensor: norm, expected: "no HASS layernorms", found: "present",
        "tensor '\(norm)': \(VLLMServing.hassLayernormsUnserved)")
    }
    let declared = run.config?["bias"]?.boolValue == true || run.config?["attention_bias"]?.boolValue == true
    if declared, !names.contains("layers.0.self_attn.q_proj.bias") {
      let key = run.config?["bias"]?.boolValue == true ? "bias" : "attention_bias"
      run.report(
        .configVLLMSupport, .error, key: key, expected: "false (the draft has no attention biases)",
        found: "true",
        "\(key): expected false, found true while the draft has no q/k/v/o biases: vLLM "
          + "\(VLLMServing.measuredVersion) builds attention biases from it and leaves them uninitialised, "
          + "so method \"eagle\" accepts nothing")
    }
  }

  private static func checkModelType(_ run: VerificationRun, _ config: JSONValue, type: String?) {
    run.ran(.configModelType, .configModelTypeAlgorithm, .configVLLMSupport)
    guard let type else { return }
    if !tabulatedTypes.contains(type) {
      let tabulated = tabulatedTypes.sorted().joined(separator: ", ")
      if otherSpeculatorsTypes.contains(type) {
        run.report(
          .configModelType, .warning, key: "speculators_model_type", expected: "one of \(tabulated)",
          found: type,
          "speculators_model_type: expected one of \(tabulated) for tensor checks, found '\(type)' "
            + "(a Speculators type without a tensor table; tensor checks skipped)")
      } else {
        run.report(
          .configModelType, .error, key: "speculators_model_type",
          expected: "one of " + (tabulatedTypes.union(otherSpeculatorsTypes)).sorted().joined(separator: ", "),
          found: type, "speculators_model_type: expected a known Speculators type, found '\(type)'")
      }
    }
    if let algorithm = config["speculators_config"]?["algorithm"]?.stringValue, algorithm != type {
      run.report(
        .configModelTypeAlgorithm, .error, key: "speculators_config.algorithm", expected: type,
        found: algorithm,
        "speculators_config.algorithm: expected '\(type)' (= speculators_model_type), found '\(algorithm)'")
    }
    if type == "eagle" {
      run.report(
        .configVLLMSupport, .error, key: "speculators_model_type",
        expected: VLLMServing.servedSpeculatorsTypes.joined(separator: ", "), found: "eagle",
        "speculators_model_type: \(VLLMServing.eagleRefusal)")
    } else if type == "mtp" {
      run.report(
        .configVLLMSupport, .error, key: "speculators_model_type",
        expected: VLLMServing.servedSpeculatorsTypes.joined(separator: ", "), found: "mtp",
        "speculators_model_type: vLLM \(VLLMServing.measuredVersion) refuses 'mtp' checkpoints on its "
          + "speculators path; stitch the layer into the verifier (speculators scripts/stitch_mtp.py) and "
          + "serve that with method mtp")
    } else if otherSpeculatorsTypes.contains(type), !VLLMServing.serves(speculatorsType: type) {
      run.report(
        .configVLLMSupport, .error, key: "speculators_model_type",
        expected: VLLMServing.servedSpeculatorsTypes.joined(separator: ", "), found: type,
        "speculators_model_type: vLLM \(VLLMServing.measuredVersion) refuses '\(type)' (it serves only "
          + VLLMServing.servedSpeculatorsTypes.joined(separator: ", ") + ")")
    }
    checkModelRunner(run, config, type: type)
  }

  /// `config.vllm-runner`: a served type that vLLM's CPU build (the V1 model runner) refuses.
  private static func checkModelRunner(_ run: VerificationRun, _ config: JSONValue, type: String) {
    run.ran(.configVLLMRunner)
    let model = ModelConfig(config)
    guard
      let feature = VLLMServing.v2RunnerOnlyFeature(
        speculatorsType: type, architectures: model.architectures ?? [],
        layerTypes: model.layer?.layerTypes ?? model.layerTypes ?? [])
    else { return }
    run.report(
      .configVLLMRunner, .warning, key: "speculators_model_type", expected: "a draft vLLM's V1 model runner serves",
      found: type,
      "speculators_model_type '\(type)': vLLM \(VLLMServing.measuredVersion) serves \(feature) only on its V2 "
        + "model runner (GPU, Triton); its CPU build refuses the checkpoint (\"Model Runner V1 does not support\")")
  }

  private static func checkLayerModelType(_ run: VerificationRun, _ config: JSONValue, isEagle3: Bool) {
    run.ran(.configLayerModelType)
    guard let layer = config["transformer_layer_config"], layer.objectMembers != nil else { return }
    let path = "transformer_layer_config.model_type"
    guard let value = layer["model_type"], !value.isNull else {
      if isEagle3 {
        run.report(
          .configLayerModelType, .warning, key: path, expected: "llama or qwen3", found: "absent",
          "\(path): expected llama or qwen3, found absent (speculators v0.7+ then reads Qwen3Config "
            + "while vLLM builds Llama layers)")
      } else {
        run.report(
          .configLayerModelType, .error, key: path, expected: "a model type (llama)", found: "absent",
          "\(path): expected a model type such as llama, found absent (speculators raises TypeError "
            + "rebuilding the layer config)")
      }
      return
    }
    if isEagle3, let type = value.stringValue, type != "llama", type != "qwen3" {
      run.report(
        .configLayerModelType, .warning, key: path, expected: "llama or qwen3", found: type,
        "\(path): expected llama or qwen3, found '\(type)' (vLLM builds Llama layers or refuses)")
    }
  }

  private static func checkDefaultProposal(_ run: VerificationRun, _ config: JSONValue) {
    run.ran(.configDefaultProposal)
    guard let speculators = config["speculators_config"],
      let method = speculators["default_proposal_method"]?.stringValue,
      let proposals = speculators["proposal_methods"]?.arrayValue
    else { return }
    let types = proposals.compactMap { $0["proposal_type"]?.stringValue }
    if !types.isEmpty && !types.contains(method) {
      run.report(
        .configDefaultProposal, .warning, key: "speculators_config.default_proposal_method",
        expected: "one of " + types.joined(separator: ", "), found: method,
        "speculators_config.default_proposal_method: expected one of \(types.joined(separator: ", ")), "
          + "found '\(method)' (speculators v0.7+ rejects this)")
    }
  }

  private static func checkNormBeforeResidual(_ run: VerificationRun, _ config: JSONValue) {
    run.ran(.configNormBeforeResidualMissing)
    if config["norm_before_residual"] == nil {
      run.report(
        .configNormBeforeResidualMissing, .error, key: "norm_before_residual",
        expected: "true or false, written explicitly", found: "absent",
        "norm_before_residual: expected an explicit true or false, found absent (vLLM assumes true, "
          + "speculators and SafeAILab EAGLE-3 use false)")
    }
  }

  private static func checkExclusiveFlags(_ run: VerificationRun, _ config: JSONValue) {
    run.ran(.configFlagExclusive)
    if config["norm_before_fc"]?.boolValue == true && config["fc_norm"]?.boolValue == true {
      run.report(
        .configFlagExclusive, .error, key: "fc_norm", expected: "at most one of norm_before_fc, fc_norm",
        found: "both true", "norm_before_fc and fc_norm: expected at most one true, found both true")
    }
  }

  private static func checkAuxLayerIDs(_ run: VerificationRun, _ config: JSONValue, key: String) {
    run.ran(.configAuxLayerIDs)
    guard let list = config[key]?.arrayValue else { return }
    let ids = list.compactMap(\.intValue)
    guard ids.count == list.count else { return }  // config.key-types reports it
    if ids.isEmpty {
      run.report(
        .configAuxLayerIDs, .warning, key: key, expected: "a non-empty list or null", found: "[]",
        "\(key): expected a non-empty list or null, found [] (vLLM then guesses the taps)")
      return
    }
    if Set(ids).count != ids.count {
      run.report(
        .configAuxLayerIDs, .error, key: key, expected: "distinct ids", found: formatShape(ids),
        "\(key): expected distinct ids, found \(formatShape(ids)) (vLLM collects each layer once, so fc "
          + "gets fewer hidden states than it takes and the first decode step fails)")
    } else if ids != ids.sorted() {
      run.report(
        .configAuxLayerIDs, .warning, key: key, expected: formatShape(ids.sorted()), found: formatShape(ids),
        "\(key): expected ascending ids \(formatShape(ids.sorted())) (fc columns follow low→high taps), "
          + "found \(formatShape(ids))")
    }
  }

  private static func checkVerifierPath(_ run: VerificationRun, _ config: JSONValue) {
    run.ran(.configVerifierPath)
    guard let name = config["speculators_config"]?["verifier"]?["name_or_path"]?.stringValue else { return }
    guard name.hasPrefix("/") || name.hasPrefix("./") || name.hasPrefix("../") || name.hasPrefix("~") else {
      return
    }
    let candidates = VerifierResolution.candidatePaths(for: name, run: run)
    if !candidates.contains(where: { FileSystem.entry(at: $0) != .missing }) {
      run.report(
        .configVerifierPath, .warning, key: "speculators_config.verifier.name_or_path",
        expected: "an existing path or a Hub id", found: name,
        "speculators_config.verifier.name_or_path: expected an existing path or a Hub id, found '\(name)', "
          + "which does not exist here (`vllm serve` loads the target from it)")
    }
  }

  /// Looks up a dotted path such as `a.b[0].c`. An absent or null ancestor gives
  /// `parentMissing` (the ancestor's own entry reports it).
  static func lookup(_ root: JSONValue, _ path: String) -> Lookup {
    var current = root
    let components = path.split(separator: ".")
    for (position, component) in components.enumerated() {
      let isLast = position == components.count - 1
      var name = component
      var index: Int?
      if let open = component.firstIndex(of: "["), component.hasSuffix("]") {
        name = component[component.startIndex..<open]
        index = Int(component[component.index(after: open)..<component.index(before: component.endIndex)])
      }
      guard current.objectMembers != nil else { return .absent(isNull: false, parentMissing: true) }
      guard let member = current[String(name)] else {
        return .absent(isNull: false, parentMissing: !isLast)
      }
      if let index {
        guard let elements = member.arrayValue, index >= 0, index < elements.count else {
          return .absent(isNull: false, parentMissing: true)
        }
        current = elements[index]
      } else {
        current = member
      }
      if current.isNull && !isLast { return .absent(isNull: true, parentMissing: true) }
    }
    if current.isNull { return .absent(isNull: true, parentMissing: false) }
    return .value(current)
  }

  /// A short rendering of a JSON value for messages.
  static func describe(_ value: JSONValue) -> String {
    let text = JSONWriter.compact(value)
    return text.count > 60 ? String(text.prefix(57)) + "..." : text
  }
}
