import Inspect

/// Feature flags in a Speculators config vs the tensors they imply (`fusion_bias` ⇔
/// `fusion_fc.bias`, `layernorms` ⇔ the HASS norms, `norm_before_fc` ⇔ `input_norm.weight`,
/// `fc_norm` ⇔ `fc_norm.{j}.weight`, Qwen3 ⇔ `q_norm`/`k_norm`, biases). Header only.
enum FlagChecks {
  /// The check id of each flag.
  static func id(for flag: ExpectedTensors.Flag) -> CheckID {
    switch flag {
    case .fusionBias: return .flagsFusionBias
    case .layernorms: return .flagsLayernorms
    case .normBeforeFC: return .flagsNormBeforeFC
    case .fcNorm: return .flagsFCNorm
    case .qkNorm: return .flagsQKNorm
    case .attentionBias: return .flagsAttentionBias
    case .mlpBias: return .flagsMLPBias
    }
  }

  /// Every flag id.
  static var allIDs: [CheckID] { ExpectedTensors.Flag.allCases.map(id(for:)) }

  /// Runs the flag checks for the flags `table` uses; `absentLayers` are reported by
  /// `layers.count` already.
  static func check(_ run: VerificationRun, table: ExpectedTensors.TensorSet, absentLayers: Set<Int>) {
    guard table.layout.isSpeculators else {
      run.notApplicable(allIDs)  // raw drafts carry no feature flags
      return
    }
    for flag in ExpectedTensors.Flag.allCases {
      let governed = table.tensors.filter {
        if case .flag(let f, _) = $0.presence { return f == flag }
        return false
      }
      let checkID = id(for: flag)
      guard !governed.isEmpty else {
        run.notApplicable([checkID])
        continue
      }
      run.ran(checkID)
      let enabled = table.flags[flag] ?? false
      if enabled {
        let missing = governed.filter { tensor in
          !run.has(tensor.name) && !(tensor.layer.map(absentLayers.contains) ?? false)
        }
        guard let first = missing.first else { continue }
        run.report(
          checkID, .error, tensor: first.name, key: flag.configKey, expected: "present",
          found: "absent",
          "\(describe(flag, enabled: true)): expected \(list(missing.map(\.name))) present, found absent")
      } else {
        let present = governed.filter { run.has($0.name) }
        guard let first = present.first else { continue }
        run.report(
          checkID, .error, tensor: first.name, key: flag.configKey, expected: "absent", found: "present",
          "\(describe(flag, enabled: false)): expected \(list(present.map(\.name))) absent, found present "
            + "(\(consequence(flag)))")
      }
    }
  }

  private static func describe(_ flag: ExpectedTensors.Flag, enabled: Bool) -> String {
    switch flag {
    case .qkNorm:
      return enabled
        ? "transformer_layer_config.model_type is qwen3" : "transformer_layer_config.model_type is not qwen3"
    default:
      return "\(flag.configKey) is \(enabled ? "true" : "false or absent")"
    }
  }

  private static func consequence(_ flag: ExpectedTensors.Flag) -> String {
    switch flag {
    case .qkNorm: return "vLLM builds the Llama class and fails with KeyError on q_norm/k_norm"
    default: return "the model has no such parameter: the loader drops it or raises KeyError"
    }
  }

  private static func list(_ names: [String]) -> String {
    let quoted = names.prefix(4).map { "'\($0)'" }
    let more = names.count > 4 ? " and \(names.count - 4) more" : ""
    return "tensor" + (names.count == 1 ? " " : "s ") + quoted.joined(separator: ", ") + more
  }
}
