import Inspect

// ADAPTER: the source → Speculators tensor renames, restated from
// reference/speculators-format.md §3.2 (eagle) and §3.3 (eagle3) so diff can pair tensors before
// the convert helper's `ConversionMapping` (Sources/Inspect/Knowledge/ConversionMapping.swift)
// lands. When it does, `CounterpartMapping.rules(...)` should delegate to it; nothing else in
// Diff depends on how the plan is made.

/// Which tensor of a Speculators conversion each source tensor became.
struct CounterpartPlan: Sendable {
  /// Where the plan comes from.
  enum Basis: String, Sendable {
    /// The converter's renaming rules for the algorithm.
    case rules
    /// The `source` records of an audit manifest (exact for that conversion).
    case manifest
  }

  /// The Speculators algorithm.
  var algorithm: String
  /// Where the plan comes from.
  var basis: Basis
  /// Source tensor name → conversion tensor name, for source tensors that are renamed or kept.
  var targetOfSource: [String: String]
  /// Source tensors the conversion leaves out, with the reason.
  var dropped: [String: String]
  /// Conversion tensors that come from elsewhere than the source draft, with the reason. Used
  /// only when no source tensor maps to the name.
  var added: [String: String]
  /// One line saying what the plan does, for the report.
  var description: String
}

/// The conversion renames of the reference converters.
enum CounterpartMapping {
  /// The plan for converting a draft with tensors `sourceNames` to `algorithm`, given what the
  /// conversion holds (`targetNames`, and its `config.json` for the eagle `layernorms` flag).
  /// `nil` for algorithms without a converter here.
  static func rules(
    algorithm: String, sourceNames: [String], targetNames: Set<String>, targetConfig: JSONValue?
  ) -> CounterpartPlan? {
    switch algorithm {
    case "eagle":
      let layernorms = targetConfig?["layernorms"]?.boolValue ?? targetNames.contains("embedding_layernorm.weight")
      var plan = CounterpartPlan(
        algorithm: algorithm, basis: .rules, targetOfSource: [:], dropped: [:], added: [:],
        description: "eagle renames: fc.* → fusion_fc.*, layers.0.* → transformer.*"
          + (layernorms ? ", HASS layernorms renamed" : "") + "; embed_tokens dropped")
      for name in sourceNames {
        switch eagleTarget(of: name, layernorms: layernorms) {
        case .dropped(let reason): plan.dropped[name] = reason
        case .renamed(let target): plan.targetOfSource[name] = target
        }
      }
      return plan
    case "eagle3":
      var plan = CounterpartPlan(
        algorithm: algorithm, basis: .rules, targetOfSource: [:], dropped: [:],
        added: ["embed_tokens.weight": "embeddings copied from the verifier: the draft has none"],
        description: "eagle3 renames: midlayer.* → layers.0.*")
      for name in sourceNames {
        plan.targetOfSource[name] = name.hasPrefix("midlayer.") ? "layers.0." + name.dropFirst("midlayer.".count) : name
      }
      return plan
    default:
      return nil
    }
  }

  /// The plan recorded by an audit manifest: each output tensor names its source tensor.
  static func recorded(in manifest: ManifestSnapshot) -> CounterpartPlan {
    var plan = CounterpartPlan(
      algorithm: manifest.algorithm ?? "unknown", basis: .manifest, targetOfSource: [:], dropped: [:], added: [:],
      description: "renames recorded in \(DiffSide.lastComponent(manifest.path))")
    for tensor in manifest.tensors {
      if tensor.sourceOrigin == "draft", let source = tensor.sourceName {
        plan.targetOfSource[source] = tensor.name
      } else if tensor.sourceOrigin == "synthesized" {
        plan.added[tensor.name] = "made by the converter" + (tensor.sourceFill.map { ", filled with \($0)" } ?? "")
      } else {
        let origin = tensor.sourceOrigin ?? "elsewhere"
        plan.added[tensor.name] = "from the \(origin)" + (tensor.sourceName.map { " (\($0))" } ?? "")
      }
    }
    for entry in manifest.dropped { plan.dropped[entry.name] = entry.reason }
    return plan
  }

  private enum EagleRule {
    case renamed(String)
    case dropped(String)
  }

  /// reference/speculators-format.md §3.2, "Weight rules".
  private static func eagleTarget(of name: String, layernorms: Bool) -> EagleRule {
    let off = "dropped because layernorms is off"
    switch name {
    case "embed_tokens.weight": return .dropped("eagle drafts take embeddings from the verifier")
    case "hidden_layernorm.weight": return layernorms ? .renamed("transformer.input_layernorm.weight") : .dropped(off)
    case "embed_layernorm.weight": return layernorms ? .renamed("embedding_layernorm.weight") : .dropped(off)
    case "lm_head_layernorm.weight": return layernorms ? .renamed("pre_lm_head_layernorm.weight") : .dropped(off)
    default:
      if name.hasPrefix("fc.") { return .renamed("fusion_fc." + name.dropFirst(3)) }
      if name.hasPrefix("layers.0.") { return .renamed("transformer." + name.dropFirst("layers.0.".count)) }
      return .renamed(name)
    }
  }
}
