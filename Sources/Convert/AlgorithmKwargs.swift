import Inspect

/// The `--algorithm-kwargs` options, parsed and checked against the algorithm.
///
/// - eagle: `layernorms`, `fusion_bias` (booleans; a `true` forces the feature on, a `false`
///   cannot turn off what the tensors show, as in the reference converter).
/// - eagle3: `norm_before_residual` (boolean, always written), `eagle_aux_hidden_state_layer_ids`
///   (list of integers, the vLLM "input of layer i" convention), `norm_before_fc`, `fc_norm`,
///   `norm_output` (booleans).
/// - dflash: `aux_hidden_state_layer_ids` (list of integers, the vLLM "input of layer i"
///   convention; replaces the ids derived from the draft's `dflash_config.target_layer_ids`).
///
/// An unknown key is an error naming it and listing the valid ones, never ignored. Errors are
/// `UsageError`s naming `--algorithm-kwargs` (the text is the user's), with the byte offset for
/// invalid JSON.
public struct AlgorithmKwargs: Sendable, Hashable {
  /// The object as given (an empty object when none).
  public var json: JSONValue

  /// eagle `layernorms`.
  public var layernorms: Bool?
  /// eagle `fusion_bias`.
  public var fusionBias: Bool?
  /// eagle3 `norm_before_residual`.
  public var normBeforeResidual: Bool?
  /// eagle3 `eagle_aux_hidden_state_layer_ids`, dflash `aux_hidden_state_layer_ids`.
  public var auxHiddenStateLayerIDs: [Int]?
  /// eagle3 `norm_before_fc`.
  public var normBeforeFC: Bool?
  /// eagle3 `fc_norm`.
  public var fcNorm: Bool?
  /// eagle3 `norm_output`.
  public var normOutput: Bool?

  /// The flag the kwargs come from, which their errors name.
  package static let flag = "--algorithm-kwargs"

  /// The keys each algorithm accepts.
  package static func validKeys(for algorithm: ConversionAlgorithm) -> [String] {
    switch algorithm {
    case .eagle: return ["fusion_bias", "layernorms"]
    case .eagle3:
      return [
        "eagle_aux_hidden_state_layer_ids", "fc_norm", "norm_before_fc", "norm_before_residual",
        "norm_output",
      ]
    case .dflash: return ["aux_hidden_state_layer_ids"]
    }
  }

  /// The warning for a kwarg given as `false` that the tensors turn on anyway (`nil` when the
  /// kwarg was not given, is `true`, or the feature is off): the override is never silent.
  static func overrideWarning(_ key: String, requested: Bool?, inEffect: Bool, evidence: String) -> String? {
    guard requested == false, inEffect else { return nil }
    return "--algorithm-kwargs \(key): false is overridden: the draft has \(evidence), so \(key) is true"
  }

  /// No kwargs.
  public init() {
    json = .object([])
  }

  /// Parses the JSON text of `--algorithm-kwargs`.
  ///
  /// - Throws: `UsageError` for invalid JSON (with the byte offset), a non-object, or a value of
  ///   the wrong type.
  public init(parsing text: String) throws(UsageError) {
    let parsed: JSONValue
    do {
      parsed = try StrictJSONParser.parse(Array(text.utf8))
    } catch {
      throw UsageError(Self.flag, offset: UInt64(max(0, error.offset)), reason: "invalid JSON: \(error.reason)")
    }
    try self.init(json: parsed)
  }

  /// Reads kwargs from a JSON object.
  ///
  /// - Throws: `UsageError` for a non-object or a value of the wrong type. Unknown keys are
  ///   checked by ``checked(for:)`` once the algorithm is known.
  package init(json: JSONValue) throws(UsageError) {
    guard let members = json.objectMembers else {
      throw UsageError(Self.flag, reason: "must be a JSON object, not \(json.typeName)")
    }
    self.json = json
    for (key, value) in members {
      switch key {
      case "layernorms": layernorms = try Self.bool(key, value)
      case "fusion_bias": fusionBias = try Self.bool(key, value)
      case "norm_before_residual": normBeforeResidual = try Self.bool(key, value)
      case "norm_before_fc": normBeforeFC = try Self.bool(key, value)
      case "fc_norm": fcNorm = try Self.bool(key, value)
      case "norm_output": normOutput = try Self.bool(key, value)
      case "eagle_aux_hidden_state_layer_ids", "aux_hidden_state_layer_ids":
        if value.isNull { break }
        guard let elements = value.arrayValue, !elements.isEmpty else {
          throw UsageError(Self.flag, reason: "'\(key)' must be a non-empty list of integers")
        }
        var ids: [Int] = []
        for element in elements {
          guard case .int(let raw) = element, let id = Int(exactly: raw), id >= 0, id < ConfigBounds.maximumCount
          else {
            throw UsageError(Self.flag, reason: "'\(key)' must hold integers from 0 to \(ConfigBounds.maximumCount - 1)")
          }
          ids.append(id)
        }
        auxHiddenStateLayerIDs = ids
      default:
        break
      }
    }
  }

  /// Returns the kwargs after checking every key is one `algorithm` accepts.
  ///
  /// - Throws: `UsageError` naming the first unknown key and listing the valid ones.
  package func checked(for algorithm: ConversionAlgorithm) throws(UsageError) -> AlgorithmKwargs {
    let valid = Self.validKeys(for: algorithm)
    for (key, _) in json.objectMembers ?? [] where !valid.contains(key) {
      throw UsageError(Self.flag, reason: "unknown \(algorithm.rawValue) kwarg '\(key)' (valid: \(valid.joined(separator: ", ")))")
    }
    return self
  }

  private static func bool(_ key: String, _ value: JSONValue) throws(UsageError) -> Bool? {
    if value.isNull { return nil }
    guard let flag = value.boolValue else {
      throw UsageError(Self.flag, reason: "'\(key)' must be true or false, not \(value.typeName)")
    }
    return flag
  }
}
