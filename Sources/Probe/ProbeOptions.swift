/// What to probe with.
public struct ProbeOptions: Sendable, Hashable {
  /// The prompts, as token ids of the verifier's vocabulary. `nil`: ``Prober/defaultPromptCount``
  /// prompts made of the verifier's own greedy continuation of short seeds.
  public var prompts: [[Int]]?
  /// Tokens generated per prompt (the first comes from the prefill, as in vLLM's `max_tokens`).
  public var maxTokens: Int
  /// Draft tokens per step; `nil`: the draft config's `speculative_tokens`, else 3.
  public var speculativeTokens: Int?
  /// Whether a near-zero acceptance is followed by the alternatives a converter can get wrong.
  public var diagnose: Bool

  /// Creates options.
  public init(prompts: [[Int]]? = nil, maxTokens: Int = 32, speculativeTokens: Int? = nil, diagnose: Bool = true) {
    self.prompts = prompts
    self.maxTokens = maxTokens
    self.speculativeTokens = speculativeTokens
    self.diagnose = diagnose
  }
}
