/// Whether a model given as a verifier (target) is in fact a draft: the rule `convert
/// --verifier` and `verify --verifier` share, so a draft is never used as the model it drafts for.
package enum DraftRecognition {
  /// Architectures that only drafts declare (substrings, case-insensitive).
  static let draftArchitectureMarks = ["eagle", "speculator", "medusa", "dflash"]

  /// What shows that the model with `config` (and, when its weights were opened, `checkpoint`)
  /// is a draft, in words (`"its config has speculators_model_type"`); `nil` when nothing does.
  ///
  /// Evidence: Speculators config keys (`speculators_model_type`, `speculators_config`), a
  /// `draft_vocab_size`, an architecture only drafts use (`LlamaForCausalLMEagle3`,
  /// `Eagle3Speculator`, ...), or tensors ``FormatDetector`` recognises as a draft layout.
  package static func draftEvidence(config: JSONValue?, checkpoint: Checkpoint?) -> String? {
    if let config {
      for key in ["speculators_model_type", "speculators_config", "draft_vocab_size"] where config[key] != nil {
        return "its config has \(key)"
      }
      for architecture in config["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
        let lower = architecture.lowercased()
        if draftArchitectureMarks.contains(where: { lower.contains($0) }) {
          return "its config's architectures name \(architecture)"
        }
      }
    }
    if let checkpoint, !checkpoint.tensors.isEmpty {
      let format = FormatDetector.detect(checkpoint).format
      if format != .hfCausalLM && format != .unknown {
        return "detected from its tensors: \(format.title)"
      }
    }
    return nil
  }
}
