extension Detection {
  /// The detection as a JSON object (the `detection` block of `inspect --json`).
  ///
  /// Keys: `format`, `title`, `family`, `confidence` (two decimals), `signature`, `evidence`,
  /// `notes`, `alternatives`, `stripped_prefix` (or `null`), `facts` (see
  /// ``DetectedFacts/json()``), `algorithm` (`"eagle"`, `"eagle3"` or `null`) and
  /// `no_algorithm_reason` (a sentence when `algorithm` is `null`, else `null`).
  public func json() -> JSONValue {
    [
      "format": .string(format.rawValue),
      "title": .string(format.title),
      "family": .string(format.family.rawValue),
      "confidence": .double(Detection.rounded(confidence)),
      "signature": .string(signature),
      "evidence": .array(evidence.map(JSONValue.string)),
      "notes": .array(notes.map(JSONValue.string)),
      "alternatives": .array(alternatives.map { .string($0.rawValue) }),
      "stripped_prefix": strippedPrefix.map(JSONValue.string) ?? .null,
      "facts": facts.json(),
      "algorithm": conversion.algorithm.map { .string($0.rawValue) } ?? .null,
      "no_algorithm_reason": conversion.reason.map(JSONValue.string) ?? .null,
    ]
  }

  static func rounded(_ value: Double) -> Double {
    (value * 100).rounded() / 100
  }
}
