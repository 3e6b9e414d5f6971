extension FormatDetector {
  /// Formats that declare themselves by config keys, file names or an unmistakable tensor
  /// naming: Speculators configs, vLLM legacy EAGLE, MLP speculator, Medusa, ModelOpt training.
  static func declaredFormat(_ context: DetectionContext) -> Detection? {
    speculatorsConfig(context)
      ?? vllmLegacyConfig(context)
      ?? mlpSpeculator(context)
      ?? medusa(context)
      ?? modelOptTraining(context)
  }

  /// Rule 1: `speculators_model_type` in config.json.
  static func speculatorsConfig(_ context: DetectionContext) -> Detection? {
    guard let config = context.config, let type = config.speculatorsModelType else { return nil }
    var evidence = ["config speculators_model_type \"\(type)\""]
    if let version = config.json["speculators_version"]?.stringValue {
      evidence.append("config speculators_version \"\(version)\"")
    }
    if let text = context.architecturesText { evidence.append("config architectures \(text)") }
    var notes: [String] = []
    var confidence = 0.99
    let signature = "config speculators_model_type \"\(type)\""
    let noWeights = context.names.isEmpty

    func expectTensor(_ name: String, layout: String) {
      if context.has(name) {
        evidence.append("\(context.described(name)) present, as the \(layout) layout has")
      } else if noWeights {
        notes.append("no tensors found next to config.json")
      } else {
        notes.append("\(name) is missing: the tensors do not look like a Speculators \(layout) checkpoint")
        confidence = 0.8
      }
    }

    switch type {
    case "eagle3":
      expectTensor("layers.0.hidden_norm.weight", layout: "eagle3")
      if context.anyName(hasPrefix: "midlayer.") {
        notes.append("tensors use midlayer.* names; a Speculators eagle3 checkpoint uses layers.0.*")
      }
      let facts = DetectedFacts.derive(from: context, family: .eagle3)
      return Detection(
        format: .speculatorsEagle3, confidence: confidence, signature: signature, evidence: evidence,
        notes: notes + configAgreementNotes(context, facts: facts), facts: facts,
        conversion: .none(reason: alreadySpeculators("eagle3")))
    case "eagle":
      expectTensor("fusion_fc.weight", layout: "eagle")
      let facts = DetectedFacts.derive(from: context, family: .eagle)
      return Detection(
        format: .speculatorsEagle, confidence: confidence, signature: signature, evidence: evidence,
        notes: notes + configAgreementNotes(context, facts: facts), facts: facts,
        conversion: .none(reason: alreadySpeculators("eagle")))
    default:
      guard let known = speculatorsTypes[type] else {
        return Detection(
          format: .speculatorsUnsupported, confidence: confidence, signature: signature,
          evidence: evidence, notes: notes, facts: DetectedFacts.derive(from: context, family: .other),
          conversion: .none(
            reason: "a Speculators \"\(type)\" checkpoint of a type this tool does not know; "
              + "vLLM serves eagle3, peagle, dflash, dflash2 and dspark"))
      }
      expectTensor(known.tensor, layout: type)
      let facts = DetectedFacts.derive(from: context, family: known.format.family)
      return Detection(
        format: known.format, confidence: confidence, signature: signature, evidence: evidence,
        notes: notes + [known.serving] + configAgreementNotes(context, facts: facts), facts: facts,
        conversion: .none(reason: alreadySpeculators(type)))
    }
  }

  /// The Speculators types beyond eagle/eagle3: format, a tensor only that layout has, and how
  /// vLLM serves it (`vllm/transformers_utils/configs/speculators/algos.py`).
  static let speculatorsTypes: [String: (format: SourceFormat, tensor: String, serving: String)] = [
    "dflash": (
      .speculatorsDFlash, "hidden_norm.weight",
      "vLLM serves it with method \"dflash\" (DFlashDraftModel; the verifier's embedding and lm_head are shared)"
    ),
    "dflash2": (
      .speculatorsDFlash2, "candidate_selector.hidden_projection.weight",
      "vLLM serves it with method \"dflash\" and the DFlash2DraftModel architecture"
    ),
    "dspark": (
      .speculatorsDSpark, "markov_head.markov_w1.weight",
      "vLLM serves it with method \"dspark\" (Qwen3DSparkModel)"
    ),
    "peagle": (
      .speculatorsPEagle, "layers.0.hidden_norm.weight",
      "vLLM serves it as eagle3 with parallel drafting (mask_token_id becomes pard_token)"
    ),
    "mtp": (
      .speculatorsMTP, "mtp_layers.0.input_proj.weight",
      "vLLM's speculators path does not serve mtp: stitch the layer into the verifier "
        + "(speculators scripts/stitch_mtp.py) and serve that with speculative_config {\"method\": \"mtp\"}"
    ),
  ]

  static func alreadySpeculators(_ type: String) -> String {
    "already in the Speculators format (\(type)); nothing to convert, check it with verify"
  }

  /// Rule 2: vLLM's legacy EAGLE config, `model_type: "eagle"` with a nested `model`.
  static func vllmLegacyConfig(_ context: DetectionContext) -> Detection? {
    guard let config = context.config, config.json["model_type"]?.stringValue == "eagle",
      config.json["model"]?.objectMembers != nil
    else { return nil }
    var evidence = ["config model_type \"eagle\" with a nested \"model\" config (vLLM legacy EAGLE)"]
    if let text = context.architecturesText { evidence.append("config architectures \(text)") }
    for name in ["fc.weight", "enorm.weight", "hnorm.weight", "token_map"] where context.has(name) {
      evidence.append("\(context.described(name)) present")
    }
    return Detection(
      format: .vllmLegacyEagle, confidence: 0.95,
      signature: "config model_type \"eagle\" with nested \"model\"", evidence: evidence,
      facts: DetectedFacts.derive(from: context, family: .eagle),
      conversion: .none(reason: vllmLegacyReason))
  }

  static let vllmLegacyReason =
    "vLLM's legacy EAGLE layout (nested config, enorm/hnorm, token_map) is not a converter input; "
    + "convert the original EAGLE checkpoint instead"

  /// Rule 3: IBM fms-extras MLP speculator.
  static func mlpSpeculator(_ context: DetectionContext) -> Detection? {
    let declared = context.config?.modelType == "mlp_speculator"
    let scope = ["", "speculator."].first { scope in
      ["emb.0.weight", "proj.0.weight", "head.0.weight"].allSatisfy { context.has(scope + $0) }
    }
    guard declared || scope != nil else { return nil }
    var evidence: [String] = []
    if declared { evidence.append("config model_type \"mlp_speculator\"") }
    if let scope {
      evidence.append(
        "tensors \(scope)emb.0.weight, \(scope)proj.0.weight, \(scope)head.0.weight (fms-extras MLP speculator)"
      )
    }
    if let heads = context.config?.int("n_predict") { evidence.append("config n_predict \(heads)") }
    var facts = DetectedFacts.derive(from: context, family: .other)
    let prefix = scope ?? ""
    facts.hiddenSize = context.config?.int("emb_dim") ?? context.columns(prefix + "proj.0.weight")
    facts.vocabSize = context.rows(prefix + "head.0.weight") ?? context.config?.vocabSize
    facts.embeddingsPresent = false
    return Detection(
      format: .mlpSpeculator, confidence: 0.95,
      signature: declared ? "config model_type \"mlp_speculator\"" : "emb.N / proj.N / head.N tensors",
      evidence: evidence, facts: facts,
      conversion: .none(
        reason: "an MLP speculator has no EAGLE equivalent; it does not convert to eagle or eagle3"),
      strippedPrefix: scope.flatMap { $0.isEmpty ? nil : $0 })
  }

  /// Rule 4: Medusa heads (config keys, `medusa_lm_head.*` files, `{i}.{j}.linear.weight`).
  static func medusa(_ context: DetectionContext) -> Detection? {
    var evidence: [String] = []
    if let heads = context.config?.int("medusa_num_heads") {
      evidence.append("config medusa_num_heads \(heads)")
    }
    if context.config?.modelType == "medusa" { evidence.append("config model_type \"medusa\"") }
    if let file = context.fileBaseNames.first(where: { $0.hasPrefix("medusa_lm_head") }) {
      evidence.append("file \(file)")
    }
    // Only a name starting with a digit can be a head's (the test's own first check).
    let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
    let headNames = context.names.names { name in
      guard let first = name.first, digits.contains(first) else { return false }
      return isMedusaHeadName(String(decoding: name, as: UTF8.self))
    }
    if !headNames.isEmpty {
      evidence.append(
        "\(headNames.count) tensors named {head}.{layer}.linear.weight, e.g. \(context.described(headNames[0]))"
      )
    }
    guard !evidence.isEmpty else { return nil }
    var facts = DetectedFacts.derive(from: context, family: .other)
    facts.hiddenSize = headNames.first.flatMap(context.rows) ?? facts.hiddenSize
    return Detection(
      format: .medusa, confidence: 0.95, signature: evidence[0], evidence: evidence, facts: facts,
      conversion: .none(
        reason: "Medusa heads have no EAGLE equivalent; they do not convert to eagle or eagle3"))
  }

  /// `^\d+\.\d+\.linear\.weight$`.
  static func isMedusaHeadName(_ name: String) -> Bool {
    guard let first = name.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && Int(parts[0]) != nil && Int(parts[1]) != nil
      && parts[2] == "linear" && parts[3] == "weight"
  }

  /// Rule 5: a ModelOpt training checkpoint (`eagle_module.*` keys or `modelopt_state.pth`).
  static func modelOptTraining(_ context: DetectionContext) -> Detection? {
    let moduleNames = context.names(hasPrefix: "eagle_module.")
    let stateFile = context.fileBaseNames.contains("modelopt_state.pth")
    guard !moduleNames.isEmpty || stateFile else { return nil }
    var evidence: [String] = []
    if !moduleNames.isEmpty { evidence.append("\(moduleNames.count) tensors under eagle_module.") }
    if stateFile { evidence.append("file modelopt_state.pth") }
    let others = context.names.count - moduleNames.count
    if others > 0 { evidence.append("\(others) other tensors (the target model's weights)") }
    let inner = context.scoped(to: "eagle_module.")
    return Detection(
      format: .modelOptTraining, confidence: 0.95, signature: evidence[0], evidence: evidence,
      facts: DetectedFacts.derive(from: inner, family: .eagle3),
      conversion: .none(
        reason: "a ModelOpt training checkpoint; export the draft with ModelOpt's export_hf_checkpoint "
          + "first, then convert the export"),
      strippedPrefix: moduleNames.isEmpty ? nil : "eagle_module.")
  }
}
