import Foundation

/// Greedy speculative decoding of one draft against its verifier, step for step as vLLM's
/// EAGLE proposer and greedy rejection sampler do it:
///
/// 1. Prefill: the verifier runs the prompt and samples its first token; the draft's first
///    pass covers every prompt position `i` with the verifier's hidden state at `i` and the
///    token at `i + 1` (the sampled token for the last), then drafts K tokens, each later step
///    feeding the previous draft token and the draft's own carried hidden state.
/// 2. Each step: the verifier runs [last token, K drafts]; the longest prefix of drafts equal
///    to its greedy tokens is accepted, plus one token of its own (the bonus). Rejected
///    positions leave both KV caches; the draft's first pass then recomputes the accepted
///    positions from the verifier's hidden states and drafts again.
/// 3. Steps continue until `maxTokens` tokens are generated (EOS ignored); every step counts
///    K drafted tokens, as vLLM's `spec_decode_num_draft_tokens` does.
struct SpeculativeDecoding {
  let verifier: VerifierNetwork
  let draft: DraftNetwork
  let speculativeTokens: Int
  let maxTokens: Int

  /// Counters of one or more runs.
  struct Tally: Sendable {
    var drafts = 0
    var draftTokens = 0
    var acceptedTokens = 0
    var acceptedPerPosition: [Int]
    var firstTokenMatches = 0
    var outputs: [[Int]] = []
    var timing = Timing()

    init(positions: Int) { acceptedPerPosition = [Int](repeating: 0, count: positions) }
  }

  /// Wall-clock seconds spent, by phase.
  struct Timing: Sendable {
    var prefillTokens = 0
    var prefillSeconds = 0.0
    var verifySteps = 0
    var verifySeconds = 0.0
    var draftSteps = 0
    var draftSeconds = 0.0
  }

  private var features: VerifierNetwork.Features {
    draft.reading.algorithm == .eagle3 ? .taps(draft.reading.auxLayerIDs) : .finalNormed
  }

  /// Decodes `prompt` and adds its counts to `tally`.
  func run(prompt: [Int], into tally: inout Tally) throws(ProbeError) {
    verifier.truncate(to: 0)
    draft.truncate(to: 0)
    let k = speculativeTokens
    var clock = ContinuousClock.now
    func lap() -> Double {
      let now = ContinuousClock.now
      let elapsed = clock.duration(to: now)
      clock = now
      return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
    let prefill = try verifier.forward(prompt, features: features, logitsFrom: prompt.count - 1)
    tally.timing.prefillTokens += prompt.count
    tally.timing.prefillSeconds += lap()
    var output = [prefill.tokens[0]]
    // Draft inputs for the positions the verifier just confirmed.
    var confirmedTokens = Array(prompt.dropFirst()) + [prefill.tokens[0]]
    var confirmedFeatures = prefill.features
    var position = prompt.count  // the position of the newest (not yet verified) token
    while output.count < maxTokens {
      let proposals = try propose(
        tokens: confirmedTokens, features: confirmedFeatures, firstPosition: position - confirmedTokens.count)
      tally.timing.draftSteps += k
      tally.timing.draftSeconds += lap()
      let step = try verifier.forward([output.last!] + proposals, features: features, logitsFrom: 0)
      tally.timing.verifySteps += 1
      tally.timing.verifySeconds += lap()
      var accepted = 0
      while accepted < k && proposals[accepted] == step.tokens[accepted] { accepted += 1 }
      tally.drafts += 1
      tally.draftTokens += k
      tally.acceptedTokens += accepted
      for index in 0..<accepted { tally.acceptedPerPosition[index] += 1 }
      if proposals[0] == step.tokens[0] { tally.firstTokenMatches += 1 }
      let bonus = step.tokens[accepted]
      output += proposals[0..<accepted] + [bonus]
      // Keep the verifier's cache for [last token, accepted drafts]; drop the rejected rows.
      verifier.truncate(to: position + accepted + 1)
      let width = step.features.count / (k + 1)
      confirmedTokens = Array(proposals[0..<accepted]) + [bonus]
      confirmedFeatures = Array(step.features[0..<((accepted + 1) * width)])
      position += accepted + 1
    }
    tally.outputs.append(Array(output.prefix(maxTokens)))
  }

  /// The draft's first pass over the confirmed positions (from `firstPosition`), then K−1
  /// single-token steps; returns the K draft tokens.
  private func propose(tokens: [Int], features: [Float], firstPosition: Int) throws(ProbeError) -> [Int] {
    draft.truncate(to: firstPosition)
    let rows = tokens.count
    let hidden = draft.combine(features, rows: rows)
    var (token, carried) = try draft.forward(tokens, hidden: hidden)
    let h = draft.shape.hiddenSize
    var proposals = [token]
    var state = Array(carried[((rows - 1) * h)...])
    for _ in 1..<speculativeTokens {
      (token, carried) = try draft.forward([token], hidden: state)
      proposals.append(token)
      state = carried
    }
    return proposals
  }
}
