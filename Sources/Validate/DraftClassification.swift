import Inspect

/// What kind of draft a checkpoint is, as far as `verify` needs to know: a Speculators
/// checkpoint (by its config) or a raw EAGLE-family draft (by ``FormatDetector``), and which
/// ``ExpectedTensors`` layout its tensors follow.
struct DraftClassification {
  /// How the checkpoint is checked.
  enum Kind: Equatable {
    /// `speculators_model_type` is present; its value.
    case speculators(type: String)
    /// A Speculators config without `speculators_model_type`.
    case speculatorsUntyped
    /// A raw draft in one of the known layouts.
    case source(ExpectedTensors.Layout)
    /// A causal LM carrying (or promising) its own MTP layers: only their coverage is checked.
    case mtpVerifier
  }

  /// How the checkpoint is checked.
  var kind: Kind
  /// What the detector concluded (producer label, evidence).
  var detection: Detection
  /// The checkpoint the tensor checks read: the stored one, or its names without the wrapper
  /// prefix the detector stripped.
  var view: Checkpoint

  /// Classifies `checkpoint`.
  ///
  /// - Throws: ``CheckpointError`` (`.unsupported`) when it is neither a Speculators checkpoint
  ///   nor an EAGLE-family draft, naming what it was detected as.
  static func classify(_ checkpoint: Checkpoint, model: ModelConfig?) throws(CheckpointError)
    -> DraftClassification
  {
    let detection = FormatDetector.detect(checkpoint)
    if let type = model?.speculatorsModelType {
      return DraftClassification(kind: .speculators(type: type), detection: detection, view: checkpoint)
    }
    if model?.json["speculators_config"] != nil || model?.json["transformer_layer_config"] != nil {
      return DraftClassification(kind: .speculatorsUntyped, detection: detection, view: checkpoint)
    }
    if detection.format == .mtpVerifier {
      return DraftClassification(kind: .mtpVerifier, detection: detection, view: checkpoint)
    }
    // Detection strips a prefix only when no two names become equal, so this cannot throw for
    // a detected prefix; the checkpoint stays as stored if it did.
    let view =
      (try? UnwrappedCheckpoint.unwrapping(checkpoint, prefix: detection.strippedPrefix))?.checkpoint ?? checkpoint
    guard let layout = layout(for: detection.format, view: view) else {
      throw CheckpointError(
        .unsupported, file: checkpoint.location,
        reason: "not a draft verify can check: detected \(detection.format.title) "
          + "(\(detection.signature))")
    }
    return DraftClassification(kind: .source(layout), detection: detection, view: view)
  }

  /// The tensor layout of a detected raw format; `nil` for formats without a table.
  static func layout(for format: SourceFormat, view: Checkpoint) -> ExpectedTensors.Layout? {
    let midlayer = view.tensors.contains { $0.name.hasPrefix("midlayer.") }
    switch format {
    case .eagle1, .hassFusionBias, .hassLayernorms:
      return .eagle1Source
    case .eagle3SafeAILab, .eagle3SpecForge, .eagle3ModelOptV1, .eagle3ModelOptV2, .eagle3NeMo, .eagle3Layers:
      return midlayer ? .eagle3MidlayerSource : .eagle3Source
    case .eagle3SpeculatorsResearch:
      return .eagle3ResearchSource
    case .speculatorsEagle:
      return .speculatorsEagle
    case .speculatorsEagle3:
      return .speculatorsEagle3
    case .dflashZLab:
      return .dflashSource
    case .speculatorsDFlash, .speculatorsDFlash2, .speculatorsDSpark:
      return .speculatorsDFlash
    case .speculatorsPEagle:
      return .speculatorsEagle3
    case .speculatorsMTP:
      return .speculatorsMTP
    case .speculatorsUnsupported, .modelOptTraining, .vllmLegacyEagle, .medusa, .mlpSpeculator, .hfCausalLM,
      .unknown, .dflash2ZLab, .mtpVerifier:
      return nil
    }
  }
}
