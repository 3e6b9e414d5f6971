/// What ``FormatDetector`` concluded about a checkpoint, and why.
public struct Detection: Sendable, Hashable {
  /// The layout and producer.
  public var format: SourceFormat
  /// How sure the label is, 0...1. The layout itself is usually surer than the producer:
  /// producers that share tensor names (EAGLE-1 vs HASS, SafeAILab vs SpecForge) are told
  /// apart by hints and get 0.5–0.8.
  public var confidence: Double
  /// The deciding signature in a few words, for example
  /// `midlayer.* tensors, fc.weight [64, 192] = 3×hidden`.
  public var signature: String
  /// Every signal that counted, deciding ones first (tensor names and shapes, config keys,
  /// file kinds).
  public var evidence: [String]
  /// Caveats: contradictions between config and tensors, missing pieces, what to check.
  public var notes: [String]
  /// Other formats the same evidence is compatible with (for ambiguous labels).
  public var alternatives: [SourceFormat]
  /// Facts derived from shapes and config.
  public var facts: DetectedFacts
  /// The conversion the layout implies, or why there is none.
  public var conversion: ImpliedConversion
  /// The common tensor-name prefix that was stripped before matching (`model.`,
  /// `eagle_module.`, `draft_model.`, `speculator.`), if any.
  public var strippedPrefix: String?

  /// Creates a detection result.
  package init(
    format: SourceFormat, confidence: Double, signature: String, evidence: [String],
    notes: [String] = [], alternatives: [SourceFormat] = [], facts: DetectedFacts,
    conversion: ImpliedConversion, strippedPrefix: String? = nil
  ) {
    self.format = format
    self.confidence = confidence
    self.signature = signature
    self.evidence = evidence
    self.notes = notes
    self.alternatives = alternatives
    self.facts = facts
    self.conversion = conversion
    self.strippedPrefix = strippedPrefix
  }
}
