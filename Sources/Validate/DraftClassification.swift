import Inspect

/// What kind of draft a checkpoint is, as far as `verify` needs to know: a Speculators
/// checkpoint (by its config) or a raw EAGLE-family draft (by tensor names).
///
/// The tensor-name rules are the simple subset of `reference/source-formats.md` §8.1 that
/// separates the layouts ``ExpectedTensors`` has tables for (including a wrapper prefix such as
/// NeMo's `model.`); producer labels are the detection module's job.
enum DraftClassification: Equatable {
  /// `speculators_model_type` is present; its value.
  case speculators(type: String)
  /// A Speculators config without `speculators_model_type`; the layout the tensors suggest.
  case speculatorsUntyped(ExpectedTensors.Layout?)
  /// A raw draft in one of the known layouts.
  case source(ExpectedTensors.Layout)

  /// Wrapper prefixes some producers put in front of every draft tensor name.
  static let wrapperPrefixes = ["model.", "eagle_module.", "draft_model.", "speculator."]

  /// Classifies `checkpoint`; `nil` when it is neither a Speculators checkpoint nor a known
  /// raw EAGLE layout. `view` is the checkpoint with a wrapper prefix removed from tensor
  /// names when that is what made the layout recognisable.
  static func classify(
    _ checkpoint: Checkpoint, model: ModelConfig?
  ) -> (classification: DraftClassification, view: Checkpoint, strippedPrefix: String?)? {
    if let type = model?.speculatorsModelType {
      return (.speculators(type: type), checkpoint, nil)
    }
    let layout = layout(of: checkpoint)
    let looksSpeculators =
      model?.json["speculators_config"] != nil || model?.json["transformer_layer_config"] != nil
    if looksSpeculators {
      switch layout {
      case .eagle3Source?, .eagle3MidlayerSource?: return (.speculatorsUntyped(.speculatorsEagle3), checkpoint, nil)
      case .eagle1Source?: return (.speculatorsUntyped(.speculatorsEagle), checkpoint, nil)
      default: return (.speculatorsUntyped(layout), checkpoint, nil)
      }
    }
    if let layout { return (.source(layout), checkpoint, nil) }
    for prefix in wrapperPrefixes {
      let prefixed = checkpoint.tensors.filter { $0.name.hasPrefix(prefix) }.count
      guard prefixed * 2 > checkpoint.tensors.count else { continue }
      let stripped = Checkpoint(
        location: checkpoint.location, directory: checkpoint.directory, files: checkpoint.files,
        config: checkpoint.config, metadata: checkpoint.metadata,
        tensors: checkpoint.tensors.map { tensor in
          var renamed = tensor
          if tensor.name.hasPrefix(prefix) { renamed.name = String(tensor.name.dropFirst(prefix.count)) }
          return renamed
        })
      guard Set(stripped.tensors.map(\.name)).count == stripped.tensors.count else { continue }
      if let layout = self.layout(of: stripped) { return (.source(layout), stripped, prefix) }
    }
    return nil
  }

  /// The layout suggested by tensor names alone.
  static func layout(of checkpoint: Checkpoint) -> ExpectedTensors.Layout? {
    let names = checkpoint.tensors.map(\.name)
    func has(_ name: String) -> Bool { checkpoint.tensor(named: name) != nil }
    if has("fusion_fc.weight") { return .speculatorsEagle }
    if names.contains(where: { $0.hasPrefix("midlayer.") }) { return .eagle3MidlayerSource }
    let hasLayers = names.contains(where: { $0.hasPrefix("layers.") })
    if has("layers.0.hidden_norm.weight") { return .eagle3Source }
    if has("fc.weight") && has("hidden_norm.weight") && has("lm_head_layernorm.weight") {
      return .eagle3ResearchSource
    }
    if has("fc.weight") && hasLayers && (has("d2t") || has("t2d") || has("lm_head.weight") || has("norm.weight")) {
      return .eagle3Source
    }
    if has("fc.weight") && hasLayers { return .eagle1Source }
    return nil
  }
}
