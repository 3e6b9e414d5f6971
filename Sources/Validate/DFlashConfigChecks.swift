import Inspect

/// Checks of the DFlash family's config (`dflash`, `dflash2`, `dspark`) as vLLM reads it
/// (`vllm/transformers_utils/configs/speculators/algos.py`, `model_executor/models/qwen3_dflash.py`):
/// the block size against the proposal's speculative tokens, and the attention causality vLLM
/// derives from `sliding_window_non_causal`. Header only.
enum DFlashConfigChecks {
  /// The Speculators types of the DFlash family.
  static let dflashTypes: Set<String> = ["dflash", "dflash2", "dspark"]

  /// The checks this type owns.
  static let ids: [CheckID] = [.configBlockSize, .configDFlashCausal]

  /// Keys vLLM requires for `type` (`update_dflash`, `update_peagle`, `update_dspark`).
  static func requiredKeys(type: String) -> [(String, ConfigChecks.Requirement)] {
    if dflashTypes.contains(type) {
      return [("aux_hidden_state_layer_ids", .nonEmptyArray), ("mask_token_id", .nonNegativeInt)]
    }
    if type == "peagle" { return [("mask_token_id", .nonNegativeInt)] }
    return []
  }

  /// Keys that must have the right type when present.
  static let optionalKeys: [(String, ConfigChecks.Requirement)] = [
    ("block_size", .positiveInt), ("sliding_window_non_causal", .bool), ("sample_from_anchor", .bool),
    ("target_hidden_size", .optionalPositiveInt), ("draft_vocab_size", .positiveInt),
  ]

  /// Runs the checks for `type`; other types mark them not applicable.
  static func check(_ run: VerificationRun, _ config: JSONValue, type: String?) {
    guard let type, dflashTypes.contains(type) else {
      run.notApplicable(ids)
      return
    }
    checkBlockSize(run, config)
    checkCausality(run, config)
  }

  /// `config.block-size`: a DFlash draft is trained to fill `block_size − 1` mask positions
  /// after the anchor; vLLM asks it for `speculative_tokens` of them.
  private static func checkBlockSize(_ run: VerificationRun, _ config: JSONValue) {
    let path = "speculators_config.proposal_methods[0].speculative_tokens"
    guard let block = config["block_size"]?.intValue, block > 0,
      case .value(let value) = ConfigChecks.lookup(config, path), let tokens = value.intValue
    else {
      run.skip([.configBlockSize], "block_size or speculative_tokens absent")
      return
    }
    run.ran(.configBlockSize)
    let anchorPredicts = config["sample_from_anchor"]?.boolValue ?? false
    let capacity = anchorPredicts ? block : block - 1
    if tokens > capacity {
      run.report(
        .configBlockSize, .warning, key: "speculators_config.proposal_methods[0].speculative_tokens",
        expected: "at most \(capacity)", found: String(tokens),
        "speculators_config.proposal_methods[0].speculative_tokens: expected at most \(capacity) "
          + "(block_size \(block)\(anchorPredicts ? " with sample_from_anchor" : " − 1 mask positions")), "
          + "found \(tokens) (the draft predicts positions it was never trained on)")
    }
  }

  /// `config.dflash-causal`: vLLM sets `dflash_config.causal = not sliding_window_non_causal`
  /// (absent means non-causal) unless `transformer_layer_config.is_causal` says otherwise, and
  /// that one value overrides every layer.
  private static func checkCausality(_ run: VerificationRun, _ config: JSONValue) {
    run.ran(.configDFlashCausal)
    let layer = config["transformer_layer_config"]
    if let explicit = layer?["is_causal"]?.boolValue, explicit { return }
    if layer?["is_causal"]?.boolValue == false { return }
    guard config["sliding_window_non_causal"]?.boolValue == false else { return }
    let types = ModelConfig(config).layer?.layerTypes ?? []
    let full = types.isEmpty ? nil : types.filter { $0 != "sliding_attention" }.count
    let which = full.map { "\($0) full-attention layer(s)" } ?? "every layer"
    run.report(
      .configDFlashCausal, .warning, key: "sliding_window_non_causal", expected: "true (non-causal block attention)",
      found: "false",
      "sliding_window_non_causal: false makes vLLM run \(which) causal (dflash_config.causal = true), "
        + "while DFlash drafts are trained with non-causal attention inside the block; acceptance drops "
        + "(speculators 0.9.0 writes false for every conversion)")
  }
}
