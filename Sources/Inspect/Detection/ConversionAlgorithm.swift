/// A conversion `speculators convert` can run, named as on its `--algorithm` option.
public enum ConversionAlgorithm: String, Sendable, Hashable, CaseIterable, Codable {
  /// EAGLE-1/2 and HASS sources → Speculators `eagle`.
  case eagle
  /// EAGLE-3 sources (SafeAILab, SpecForge, ModelOpt, NeMo) → Speculators `eagle3`.
  case eagle3
  /// z-lab DFlash drafts → Speculators `dflash`.
  case dflash
}

/// What a detected checkpoint implies for conversion: an algorithm, or why there is none.
public enum ImpliedConversion: Sendable, Hashable {
  /// The checkpoint converts with this algorithm.
  case algorithm(ConversionAlgorithm)
  /// The checkpoint cannot be converted; `reason` says why, in one sentence.
  case none(reason: String)

  /// The algorithm, when there is one.
  public var algorithm: ConversionAlgorithm? {
    if case .algorithm(let algorithm) = self { return algorithm }
    return nil
  }

  /// The reason there is no algorithm, when there is none.
  public var reason: String? {
    if case .none(let reason) = self { return reason }
    return nil
  }
}
