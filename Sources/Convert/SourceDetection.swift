import Inspect

/// What the converter needs to know about a source's layout, from ``FormatDetector``: a format
/// name for the manifest, the algorithm that fits it (if any), and the evidence, for messages.
struct SourceDetection: Sendable, Hashable {
  /// A short format name (`eagle1`, `hass-layernorms`, `eagle3-safeailab`, …).
  var format: String
  /// The algorithm that converts it, or `nil` when none does (already converted, unknown).
  var algorithm: ConversionAlgorithm?
  /// The tensors or config keys that decided it.
  var evidence: String
  /// Why no conversion applies, when none does.
  var noConversionReason: String?

  /// Classifies a checkpoint with the shared ``FormatDetector``.
  static func detect(_ checkpoint: Checkpoint) -> SourceDetection {
    let detection = FormatDetector.detect(checkpoint)
    return SourceDetection(
      format: detection.format.rawValue, algorithm: detection.conversion.algorithm,
      evidence: detection.signature, noConversionReason: detection.conversion.reason)
  }
}
