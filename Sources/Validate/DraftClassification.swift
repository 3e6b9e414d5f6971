import Inspect

/// What kind of draft a checkpoint is, as far as `verify` needs to know: a Speculators
/// checkpoint (by its config) or a raw EAGLE-family draft (by tensor names).
///
/// The tensor-name rules are the simple subset of `reference/source-formats.md` §8.1 that
/// separates the layouts ``ExpectedTensors`` has tables for; producer labels are the
/// detection module's job.
enum DraftClassification: Equatable {
  /// `speculators_model_type` is present; its value.
  case speculators(type: String)
  /// A Speculators config without `speculators_model_type`; the layout the tensors suggest.
  case speculatorsUntyped(ExpectedTensors.Layout?)
  /// A raw draft in one of the known layouts.
  case source(ExpectedTensors.Layout)

  /// Classifies `checkpoint`; `nil` when it is neither a Speculators checkpoint nor a known
  /// raw EAGLE layout.
  static func classify(_ checkpoint: Checkpoint, model: ModelConfig?) -> DraftClassification? {
    if let type = model?.speculatorsModelType {
      return .speculators(type: type)
    }
    let layout = layout(of: checkpoint)
    let looksSpeculators =
      model?.json["speculators_config"] != nil || model?.json["transformer_layer_config"] != nil
    if looksSpeculators {
      switch layout {
      case .eagle3Source?, .eagle3MidlayerSource?: return .speculatorsUntyped(.speculatorsEagle3)
      case .eagle1Source?: return .speculatorsUntyped(.speculatorsEagle)
      default: return .speculatorsUntyped(layout)
      }
    }
    return layout.map(DraftClassification.source)
  }

  /// The layout suggested by tensor names alone.
  static func layout(of checkpoint: Checkpoint) -> ExpectedTensors.Layout? {
    let names = checkpoint.tensors.map(\.name)
    func has(_ name: String) -> Bool { checkpoint.tensor(named: name) != nil }
    if has("fusion_fc.weight") { return .speculatorsEagle }
    if names.contains(where: { $0.hasPrefix("midlayer.") }) { return .eagle3MidlayerSource }
    let hasLayers = names.contains(where: { $0.hasPrefix("layers.") })
    if has("layers.0.hidden_norm.weight") { return .eagle3Source }
    if has("fc.weight") && hasLayers && (has("d2t") || has("t2d") || has("lm_head.weight") || has("norm.weight")) {
      return .eagle3Source
    }
    if has("fc.weight") && hasLayers { return .eagle1Source }
    return nil
  }
}
