import Inspect

/// Which tensor of a Speculators conversion each source tensor became.
struct CounterpartPlan: Sendable {
  /// Where the plan comes from.
  enum Basis: String, Sendable {
    /// The converter's renaming rules for the algorithm (``ConversionMapping``).
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
  /// Source tensors the conversion leaves out by its rules, with the reason.
  var dropped: [String: String]
  /// Conversion tensors that come from elsewhere than the source draft, with the reason. Used
  /// only when no source tensor maps to the name.
  var added: [String: String]
  /// Source tensors the rules do not place (they are paired by name, if at all).
  var unplaced: Set<String> = []
  /// One line saying what the plan does, for the report.
  var description: String
}

/// Builds ``CounterpartPlan``s from the shared conversion knowledge: the renaming rules of
/// ``ConversionMapping``, or the provenance an ``AuditManifest`` recorded.
enum CounterpartMapping {
  /// The plan for converting a draft with tensors `sourceNames` to `algorithm`, given the
  /// conversion's `config.json` (its `layernorms` and `fusion_bias` flags force the eagle
  /// features on, as they would have when converting).
  ///
  /// - Returns: `nil` for an algorithm without a converter.
  /// - Throws: ``CheckpointError`` when the rules cannot place the tensors (two source tensors
  ///   for one output name, eagle3 layers not numbered from 0).
  static func rules(
    algorithm name: String, sourceNames: [String], targetConfig: JSONValue?, location: String
  ) throws(CheckpointError) -> CounterpartPlan? {
    guard let algorithm = ConversionAlgorithm(rawValue: name) else { return nil }
    let options = ConversionMapping.Options(
      layernorms: targetConfig?["layernorms"]?.boolValue ?? false,
      fusionBias: targetConfig?["fusion_bias"]?.boolValue ?? false, dropUnknown: true)
    let mapping = try ConversionMapping.plan(
      tensorNames: sourceNames, algorithm: algorithm, options: options, location: location)
    var plan = CounterpartPlan(
      algorithm: name, basis: .rules, targetOfSource: [:], dropped: [:], added: [:],
      description: algorithm == .eagle
        ? "eagle renames: fc.* -> fusion_fc.*, layers.0.* -> transformer.*" : "eagle3 renames: midlayer.* -> layers.0.*")
    for rename in mapping.renames { plan.targetOfSource[rename.source] = rename.output }
    for drop in mapping.dropped {
      // A drop the caller asked for (`dropUnknown`) is a tensor the rules do not know.
      if drop.requested { plan.unplaced.insert(drop.name) } else { plan.dropped[drop.name] = drop.reason }
    }
    for synthesis in mapping.synthesized {
      plan.added[synthesis.output] = "made by the converter (\(synthesis.fill.rawValue)): \(synthesis.reason)"
    }
    for name in mapping.verifierTensors {
      plan.added[name] = "copied from the verifier's weights: the draft has none"
    }
    return plan
  }

  /// The plan recorded by an audit manifest: each output tensor names its source tensor.
  static func recorded(in manifest: AuditManifest, path: String) -> CounterpartPlan {
    var plan = CounterpartPlan(
      algorithm: manifest.options.algorithm, basis: .manifest, targetOfSource: [:], dropped: [:], added: [:],
      description: "renames recorded in \(FileSystem.lastComponent(of: path))")
    for tensor in manifest.tensors {
      switch tensor.source.origin {
      case .draft:
        if let source = tensor.source.name { plan.targetOfSource[source] = tensor.name }
      case .verifier:
        plan.added[tensor.name] = "copied from the verifier" + (tensor.source.name.map { " (\($0))" } ?? "")
      case .synthesized:
        plan.added[tensor.name] = "made by the converter" + (tensor.source.fill.map { ", filled with \($0)" } ?? "")
      }
    }
    for entry in manifest.dropped { plan.dropped[entry.name] = entry.reason }
    return plan
  }
}
