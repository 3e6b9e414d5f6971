import Inspect

// TEMPORARY SHIM (convert branch): source-format detection belongs to the detection helper
// (`FormatDetector.detect(_:)` in Sources/Inspect/Detection, branch `detect`). When it lands,
// the body of `SourceDetection.detect(_:)` becomes:
//
//   let detection = FormatDetector.detect(checkpoint)
//   return SourceDetection(
//     format: detection.format.rawValue, algorithm: detection.conversion.algorithm,
//     evidence: detection.signature, noConversionReason: detection.conversion.reason)
//
// (and Sources/Inspect/Knowledge/ConversionAlgorithmShim.swift is deleted). Nothing else in
// Convert looks at detection.

/// What the converter needs to know about a source's layout: a format name for the manifest,
/// the algorithm that fits it (if any), and the evidence, for error messages.
struct SourceDetection: Sendable, Hashable {
  /// A short format name (`eagle1`, `hass-layernorms`, `eagle3-safeailab`, …).
  var format: String
  /// The algorithm that converts it, or `nil` when none does (already converted, unknown).
  var algorithm: ConversionAlgorithm?
  /// The tensors or config keys that decided it.
  var evidence: String
  /// Why no conversion applies, when none does.
  var noConversionReason: String? = nil

  /// Classifies a checkpoint by its tensor names and config.
  static func detect(_ checkpoint: Checkpoint) -> SourceDetection {
    let names = Set(checkpoint.tensors.map(\.name))
    let config = checkpoint.config.map(ModelConfig.init)
    if let type = config?.speculatorsModelType {
      return SourceDetection(
        format: "speculators-\(type)", algorithm: nil,
        evidence: "config.json has speculators_model_type '\(type)'",
        noConversionReason: "already converted")
    }
    if names.contains("fusion_fc.weight") || names.contains(where: { $0.hasPrefix("transformer.") }) {
      return SourceDetection(
        format: "speculators-eagle", algorithm: nil, evidence: "fusion_fc.* / transformer.* tensors",
        noConversionReason: "already converted")
    }
    if names.contains(where: { $0.hasPrefix("midlayer.") }) {
      let specForge = config?.architectures?.contains("LlamaForCausalLMEagle3") ?? false
      return SourceDetection(
        format: specForge ? "eagle3-specforge" : "eagle3-safeailab", algorithm: .eagle3,
        evidence: "midlayer.* tensors" + (specForge ? ", architectures LlamaForCausalLMEagle3" : ""))
    }
    let layers = Set(names.compactMap { ConversionMapping.layerIndex(of: $0)?.0 })
    let eagle3Markers = ["d2t", "t2d", "layers.0.hidden_norm.weight"].filter(names.contains)
    if !eagle3Markers.isEmpty {
      return SourceDetection(
        format: layers.count > 1 ? "eagle3-multilayer" : "eagle3", algorithm: .eagle3,
        evidence: eagle3Markers.joined(separator: ", "))
    }
    if names.contains("fc.weight") && layers == [0] {
      let norms = [
        "embed_layernorm.weight", "post_embedding_layernorm.weight", "hidden_layernorm.weight",
        "lm_head_layernorm.weight",
      ].filter(names.contains)
      return SourceDetection(
        format: norms.isEmpty ? "eagle1" : "hass-layernorms", algorithm: .eagle,
        evidence: "fc.weight with layers.0.* and no EAGLE-3 tensors"
          + (norms.isEmpty ? "" : ", " + norms.joined(separator: ", ")))
    }
    return SourceDetection(format: "unknown", algorithm: nil, evidence: "no EAGLE tensor layout recognised")
  }
}
