import ArgumentParser
import Probe

/// The options `speculators probe` and `verify --probe` share: the prompts, the tokens
/// generated per prompt and the draft tokens per step.
struct ProbeArguments: ParsableArguments {
  @Option(help: "JSON lines, one list of token ids per prompt.")
  var promptIds: String?

  @Option(help: "Tokens generated per prompt.")
  var maxTokens: Int = 32

  @Option(help: "Draft tokens per step (default: the draft's speculative_tokens, else 3).")
  var numSpeculativeTokens: Int?

  func validate() throws {
    guard (1...Prober.maximumTokens).contains(maxTokens) else {
      throw ValidationError("--max-tokens must be in 1...\(Prober.maximumTokens)")
    }
    if let k = numSpeculativeTokens, !(1...Prober.maximumSpeculativeTokens).contains(k) {
      throw ValidationError("--num-speculative-tokens must be in 1...\(Prober.maximumSpeculativeTokens)")
    }
  }

  /// The probe's options, with the prompts read from `--prompt-ids`.
  ///
  /// - Throws: ``ProbeError`` when the prompt file cannot be read or holds no valid prompts.
  func options(diagnose: Bool = true) throws(ProbeError) -> ProbeOptions {
    ProbeOptions(
      prompts: try promptIds.map(PromptFile.read), maxTokens: maxTokens, speculativeTokens: numSpeculativeTokens,
      diagnose: diagnose)
  }
}
