import Inspect

/// Runs a draft against its verifier on the CPU, the way vLLM decodes greedily, and measures
/// how many of its tokens the verifier accepts.
///
/// ```swift
/// let report = try Prober.probe(draft: "converted", verifier: "Llama-3.1-8B-Instruct")
/// print(report.acceptance.rate, report.acceptance.meanAcceptanceLength)
/// ```
public enum Prober {
  /// Below this acceptance rate a draft counts as collapsed, and the diagnosis runs.
  public static let collapsedRate = 0.05
  /// An alternative reading restores acceptance when it reaches this rate (and doubles the
  /// as-read one).
  public static let restoringRate = 0.10
  /// Prompts made when none are given.
  public static let defaultPromptCount = 4
  /// Tokens of a default prompt: a short seed continued greedily by the verifier.
  public static let defaultPromptLength = 32
  /// The largest `speculativeTokens` accepted.
  public static let maximumSpeculativeTokens = 32
  /// The largest `maxTokens` accepted.
  package static let maximumTokens = 1 << 20

  /// Probes the draft at `draft` against the verifier at `verifier` (local directories or
  /// weights files with a `config.json` beside them).
  ///
  /// - Throws: ``ProbeError`` for an architecture the probe does not run, a draft that does not
  ///   fit its verifier, prompt ids outside the vocabulary, or non-finite activations.
  public static func probe(
    draft: String, verifier: String, options: ProbeOptions = ProbeOptions()
  ) throws(ProbeError) -> ProbeReport {
    let reader = TensorReader()
    let verifierCheckpoint = try open(verifier)
    let network = try VerifierNetwork(checkpoint: verifierCheckpoint, reader: reader)
    let source = try DraftSource(checkpoint: try open(draft), reader: reader, verifierLayers: network.shape.layerCount)
    try checkFit(source, network)
    let k = options.speculativeTokens ?? source.speculativeTokens ?? 3
    guard (1...maximumSpeculativeTokens).contains(k) else {
      throw ProbeError(
        .invalidInput, file: draft, reason: "num_speculative_tokens \(k) is outside 1...\(maximumSpeculativeTokens)")
    }
    guard (1...maximumTokens).contains(options.maxTokens) else {
      throw ProbeError(.invalidInput, file: draft, reason: "max_tokens \(options.maxTokens) is outside 1...\(maximumTokens)")
    }
    let prompts: [[Int]]
    if let given = options.prompts {
      prompts = try checkPrompts(given, network)
    } else {
      prompts = try defaultPrompts(network)
    }
    let asRead = try measure(source.reading, source: source, network: network, k: k, options: options, prompts: prompts)
    var alternatives: [ProbeReport.Alternative] = []
    if options.diagnose && asRead.acceptance.rate < collapsedRate {
      for (reading, change, fix) in alternativeReadings(source, network) {
        let tried: Measured
        do throws(ProbeError) {
          tried = try measure(reading, source: source, network: network, k: k, options: options, prompts: prompts)
        } catch {
          // A reading the tensors cannot take is no alternative.
          if error.kind == .mismatch || error.kind == .nonFinite { continue }
          throw error
        }
        let rate = tried.acceptance.rate
        alternatives.append(
          ProbeReport.Alternative(
            change: change, acceptance: tried.acceptance,
            restores: rate >= restoringRate && rate >= 2 * asRead.acceptance.rate, fix: fix))
      }
    }
    return ProbeReport(
      draft: draft, verifier: verifier, reading: source.reading, converted: source.converted, prompts: prompts,
      speculativeTokens: k, maxTokens: options.maxTokens, acceptance: asRead.acceptance, outputs: asRead.outputs,
      alternatives: alternatives, timing: asRead.timing)
  }

  private struct Measured {
    var acceptance: ProbeReport.Acceptance
    var outputs: [[Int]]
    var timing: ProbeReport.Timing
  }

  private static func measure(
    _ reading: DraftReading, source: DraftSource, network: VerifierNetwork, k: Int, options: ProbeOptions,
    prompts: [[Int]]
  ) throws(ProbeError) -> Measured {
    let draftNetwork = try DraftNetwork(
      reading: reading, shape: source.shape, weights: source.weights, verifier: network,
      fcInputWidth: source.fcInputWidth)
    let decoding = SpeculativeDecoding(
      verifier: network, draft: draftNetwork, speculativeTokens: k, maxTokens: options.maxTokens)
    var tally = SpeculativeDecoding.Tally(positions: k)
    for prompt in prompts { try decoding.run(prompt: prompt, into: &tally) }
    let t = tally.timing
    return Measured(
      acceptance: ProbeReport.Acceptance(
        drafts: tally.drafts, draftTokens: tally.draftTokens, acceptedTokens: tally.acceptedTokens,
        acceptedPerPosition: tally.acceptedPerPosition, firstTokenMatches: tally.firstTokenMatches),
      outputs: tally.outputs,
      timing: ProbeReport.Timing(
        prefillTokens: t.prefillTokens, prefillSeconds: t.prefillSeconds, verifySteps: t.verifySteps,
        verifySeconds: t.verifySeconds, draftSteps: t.draftSteps, draftSeconds: t.draftSeconds,
        verifierStepBytes: network.stepWeightBytes, draftStepBytes: draftNetwork.stepWeightBytes))
  }

  private static func open(_ path: String) throws(ProbeError) -> Checkpoint {
    do {
      return try CheckpointReader.open(path)
    } catch {
      throw ProbeError(error)
    }
  }

  /// The draft must fit its verifier: hidden size (eagle3: `target_hidden_size`) and vocabulary.
  private static func checkFit(_ source: DraftSource, _ network: VerifierNetwork) throws(ProbeError) {
    let file = source.checkpoint.directory + "/config.json"
    let verifierH = network.shape.hiddenSize
    let config = source.checkpoint.config.map(ModelConfig.init)
    let target = config?.targetHiddenSize ?? config?.layer?.targetHiddenSize ?? source.shape.hiddenSize
    if source.reading.algorithm == .eagle || config?.targetHiddenSize != nil || config?.layer?.targetHiddenSize != nil
      || source.reading.embedding == .verifier
    {
      guard target == verifierH else {
        throw ProbeError(
          .mismatch, file: file,
          reason: "the draft expects hidden size \(target) but the verifier's hidden_size is \(verifierH)")
      }
    }
    guard source.shape.vocabSize == network.shape.vocabSize else {
      throw ProbeError(
        .mismatch, file: file,
        reason: "the draft's vocab_size \(source.shape.vocabSize) differs from the verifier's \(network.shape.vocabSize)")
    }
  }

  private static func checkPrompts(_ prompts: [[Int]], _ network: VerifierNetwork) throws(ProbeError) -> [[Int]] {
    guard !prompts.isEmpty else {
      throw ProbeError(.invalidInput, file: "prompts", reason: "no prompts given")
    }
    let vocab = network.shape.vocabSize
    for (index, prompt) in prompts.enumerated() {
      guard !prompt.isEmpty else {
        throw ProbeError(.invalidInput, file: "prompts", reason: "prompt \(index + 1) is empty")
      }
      if let bad = prompt.first(where: { $0 < 0 || $0 >= vocab }) {
        throw ProbeError(
          .invalidInput, file: "prompts",
          reason: "prompt \(index + 1) holds token id \(bad), outside the verifier's vocabulary 0..<\(vocab)")
      }
    }
    return prompts
  }

  /// Short seeds spread over the vocabulary, continued greedily by the verifier alone.
  private static func defaultPrompts(_ network: VerifierNetwork) throws(ProbeError) -> [[Int]] {
    let vocab = network.shape.vocabSize
    return try (0..<defaultPromptCount).map { (seed) throws(ProbeError) -> [Int] in
      var prompt = (0..<4).map { (1 + seed * 7919 + $0 * 104_729) % vocab }
      network.truncate(to: 0)
      var next = try network.forward(prompt, features: .taps([]), logitsFrom: prompt.count - 1).tokens[0]
      while prompt.count < defaultPromptLength {
        prompt.append(next)
        if prompt.count == defaultPromptLength { break }
        next = try network.forward([next], features: .taps([]), logitsFrom: 0).tokens[0]
      }
      return prompt
    }
  }

  /// The readings a converter can get wrong, each with what to change if it restores acceptance.
  private static func alternativeReadings(
    _ source: DraftSource, _ network: VerifierNetwork
  ) -> [(DraftReading, String, String)] {
    let base = source.reading
    let verb = source.converted ? "reconvert" : "convert"
    var out: [(DraftReading, String, String)] = []
    if base.algorithm == .eagle3 {
      var flipped = base
      flipped.normBeforeResidual.toggle()
      out.append(
        (
          flipped, "norm_before_residual=\(flipped.normBeforeResidual)",
          "\(verb) with --algorithm-kwargs '{\"norm_before_residual\": \(flipped.normBeforeResidual)}'"
        ))
      let layers = network.shape.layerCount
      let defaults = DraftReading.defaultAuxLayerIDs(verifierLayers: layers).filter { $0 >= 0 }
      var candidates: [[Int]] = []
      if defaults != base.auxLayerIDs { candidates.append(defaults) }
      for shift in [1, -1] {
        let moved = base.auxLayerIDs.map { $0 + shift }
        if moved.allSatisfy({ $0 >= 0 && $0 <= layers }), !candidates.contains(moved) { candidates.append(moved) }
      }
      for ids in candidates where ids.count == base.auxLayerIDs.count {
        var tapped = base
        tapped.auxLayerIDs = ids
        let list = ids.map(String.init).joined(separator: ", ")
        out.append(
          (
            tapped, "eagle_aux_hidden_state_layer_ids=[\(list)]",
            "\(verb) with --algorithm-kwargs '{\"eagle_aux_hidden_state_layer_ids\": [\(list)]}'"
          ))
      }
    }
    if base.embedding == .draft {
      var shared = base
      shared.embedding = .verifier
      out.append(
        (
          shared, "embedding=verifier",
          "the draft's embed_tokens.weight is not the embedding it was trained with, and vLLM uses it: "
            + "\(verb) from a draft without it (convert copies the verifier's) or replace it with the verifier's"
        ))
    }
    return out
  }
}
