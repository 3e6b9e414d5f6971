import Inspect

/// The outcome of a probe: how much of the draft vLLM's greedy verification would accept.
public struct ProbeReport: Sendable {
  /// The measured counts under one reading of the draft.
  public struct Acceptance: Sendable, Hashable {
    /// Verification steps that carried drafts (vLLM's `spec_decode_num_drafts`).
    public var drafts: Int
    /// Draft tokens proposed (`spec_decode_num_draft_tokens`).
    public var draftTokens: Int
    /// Draft tokens accepted (`spec_decode_num_accepted_tokens`).
    public var acceptedTokens: Int
    /// Accepted tokens at each draft position (`spec_decode_num_accepted_tokens_per_pos`).
    public var acceptedPerPosition: [Int]
    /// Steps whose first draft token equals the verifier's greedy token.
    public var firstTokenMatches: Int

    /// `acceptedTokens / draftTokens` (0 with no drafts).
    public var rate: Double { draftTokens == 0 ? 0 : Double(acceptedTokens) / Double(draftTokens) }
    /// Tokens gained per step: `1 + acceptedTokens / drafts`, as vLLM reports it.
    public var meanAcceptanceLength: Double { drafts == 0 ? 1 : 1 + Double(acceptedTokens) / Double(drafts) }
    /// Acceptance rate at each draft position.
    public var ratePerPosition: [Double] {
      acceptedPerPosition.map { drafts == 0 ? 0 : Double($0) / Double(drafts) }
    }
    /// Top-1 agreement of the first drafted token.
    public var firstTokenAgreement: Double { drafts == 0 ? 0 : Double(firstTokenMatches) / Double(drafts) }
  }

  /// One alternative reading tried by the diagnosis.
  public struct Alternative: Sendable, Hashable {
    /// What was changed, e.g. `norm_before_residual=true`.
    public var change: String
    /// The acceptance with that change.
    public var acceptance: Acceptance
    /// Whether it restores acceptance (see ``Prober/restoringRate``).
    public var restores: Bool
    /// What the user should do when it restores acceptance.
    public var fix: String
  }

  /// Wall-clock figures of the as-read run.
  public struct Timing: Sendable, Hashable {
    /// Prompt tokens run through the verifier in prefills.
    public var prefillTokens: Int
    /// Seconds of those prefills.
    public var prefillSeconds: Double
    /// Verifier decode steps (each K + 1 tokens).
    public var verifySteps: Int
    /// Seconds of them.
    public var verifySeconds: Double
    /// Draft forward steps.
    public var draftSteps: Int
    /// Seconds of the draft's passes (first passes included).
    public var draftSeconds: Double
    /// Weight bytes a verifier step reads.
    public var verifierStepBytes: Int
    /// Weight bytes a draft step reads, on average over a proposal's K steps (eagle3's fc runs
    /// once per proposal).
    public var draftStepBytes: Int
  }

  /// The draft as given.
  public var draft: String
  /// The verifier as given.
  public var verifier: String
  /// How the draft was read (what vLLM would use).
  public var reading: DraftReading
  /// Whether the draft is in the Speculators format (else: a source before conversion).
  public var converted: Bool
  /// The prompts decoded.
  public var prompts: [[Int]]
  /// Draft tokens per step.
  public var speculativeTokens: Int
  /// Tokens generated per prompt.
  public var maxTokens: Int
  /// The counts as read.
  public var acceptance: Acceptance
  /// The generated tokens of each prompt (the verifier's greedy output).
  public var outputs: [[Int]]
  /// The alternatives tried when acceptance was near zero (empty otherwise).
  public var alternatives: [Alternative]
  /// Timing of the as-read run.
  public var timing: Timing

  /// The first alternative that restores acceptance, if any.
  public var restoringAlternative: Alternative? { alternatives.first(where: \.restores) }

  /// Whether acceptance is near zero (below ``Prober/collapsedRate``).
  public var collapsed: Bool { acceptance.rate < Prober.collapsedRate }

  /// The report as a JSON document (`schemas/probe-report.schema.json`).
  public func json() -> JSONValue {
    func counts(_ a: Acceptance) -> JSONValue {
      .object([
        ("drafts", .int(Int64(a.drafts))),
        ("draft_tokens", .int(Int64(a.draftTokens))),
        ("accepted_tokens", .int(Int64(a.acceptedTokens))),
        ("acceptance_rate", .double(a.rate)),
        ("mean_acceptance_length", .double(a.meanAcceptanceLength)),
        ("accepted_per_position", .array(a.acceptedPerPosition.map { .int(Int64($0)) })),
        ("acceptance_per_position", .array(a.ratePerPosition.map(JSONValue.double))),
        ("first_token_agreement", .double(a.firstTokenAgreement)),
      ])
    }
    let ids: [JSONValue] = reading.declaredAuxLayerIDs.map { $0.map { .int(Int64($0)) } } ?? []
    let readingJSON: JSONValue = .object([
      ("algorithm", .string(reading.algorithm.rawValue)),
      ("aux_layer_ids", .array(reading.auxLayerIDs.map { .int(Int64($0)) })),
      ("declared_aux_layer_ids", reading.declaredAuxLayerIDs == nil ? .null : .array(ids)),
      ("norm_before_residual", .bool(reading.normBeforeResidual)),
      ("norm_before_fc", .bool(reading.normBeforeFC)),
      ("fc_norm", .bool(reading.fcNorm)),
      ("norm_output", .bool(reading.normOutput)),
      ("layernorms", .bool(reading.layernorms)),
      ("embedding", .string(reading.embedding.rawValue)),
      ("lm_head", .string(reading.lmHead.rawValue)),
    ])
    var members: [(key: String, value: JSONValue)] = [
      ("draft", .string(draft)),
      ("verifier", .string(verifier)),
      ("converted", .bool(converted)),
      ("reading", readingJSON),
      ("num_speculative_tokens", .int(Int64(speculativeTokens))),
      ("max_tokens", .int(Int64(maxTokens))),
      ("prompts", .int(Int64(prompts.count))),
      ("prompt_tokens", .int(Int64(prompts.reduce(0) { $0 + $1.count }))),
    ]
    if case .object(let inner) = counts(acceptance) { members += inner }
    members.append(("collapsed", .bool(collapsed)))
    members.append(
      (
        "alternatives",
        .array(
          alternatives.map { alternative in
            .object([
              ("change", .string(alternative.change)),
              ("restores", .bool(alternative.restores)),
              ("fix", .string(alternative.fix)),
              ("counts", counts(alternative.acceptance)),
            ])
          })
      ))
    members.append(
      (
        "timing",
        .object([
          ("prefill_tokens", .int(Int64(timing.prefillTokens))),
          ("prefill_seconds", .double(timing.prefillSeconds)),
          ("verify_steps", .int(Int64(timing.verifySteps))),
          ("verify_seconds", .double(timing.verifySeconds)),
          ("draft_steps", .int(Int64(timing.draftSteps))),
          ("draft_seconds", .double(timing.draftSeconds)),
          ("verifier_step_bytes", .int(Int64(timing.verifierStepBytes))),
          ("draft_step_bytes", .int(Int64(timing.draftStepBytes))),
        ])
      ))
    members.append(("outputs", .array(outputs.map { .array($0.map { .int(Int64($0)) }) })))
    return .object(members)
  }
}
