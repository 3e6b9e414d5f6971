// TEMPORARY SHIM (convert branch): `ConversionAlgorithm` belongs to the detection helper
// (Sources/Inspect/Detection, branch `detect`). Delete this file when that branch is merged;
// the cases below are the two the issue names (`eagle`, `eagle3`).

/// The conversion a source checkpoint needs to reach the Speculators format.
public enum ConversionAlgorithm: String, Sendable, Hashable, CaseIterable, Codable {
  /// EAGLE v1/v2 and HASS drafts → Speculators `eagle`.
  case eagle
  /// EAGLE-3 drafts (SafeAILab, SpecForge, multi-layer) → Speculators `eagle3`.
  case eagle3
}
