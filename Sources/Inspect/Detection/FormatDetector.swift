/// Tells, from tensor names, shapes, dtypes, file kinds and `config.json` alone, which
/// producer wrote a checkpoint and which conversion it implies.
///
/// Rules run in order and the first that matches wins (`docs/formats.md`):
/// 1. declared formats: a Speculators config, vLLM legacy EAGLE, MLP speculator, Medusa,
///    a ModelOpt training checkpoint;
/// 2. tensor layouts on the names as stored: Speculators `eagle` names, EAGLE-3 (`midlayer.*`,
///    `layers.0.hidden_norm`), z-lab DFlash (`fc` + `hidden_norm` without a head), research
///    `hidden_norm`, HASS with layernorms, vLLM `enorm` / `hnorm`, EAGLE-1/2 and HASS, a causal
///    LM (with or without its own MTP layers);
/// 3. the same layouts after stripping a wrapper prefix (`model.`, `eagle_module.`,
///    `draft_model.`, `speculator.`);
/// 4. config-only guesses when there are no tensors;
/// 5. ``SourceFormat/unknown``.
///
/// Tensor signatures decide; config keys and file kinds only break ties between producers
/// that share a layout. Tensor data is never read.
public enum FormatDetector {
  /// Detects the format of `checkpoint`.
  public static func detect(_ checkpoint: Checkpoint) -> Detection {
    let context = DetectionContext(checkpoint)
    if let found = declaredFormat(context) { return found }
    if let found = tensorLayout(context) { return found }
    if let stripped = context.strippingPrefix(), let found = tensorLayout(stripped) { return found }
    if let found = configOnlyGuess(context) { return found }
    return unknown(context)
  }

  /// The layout rules, in order, over one view of the names.
  static func tensorLayout(_ context: DetectionContext) -> Detection? {
    speculatorsEagleNames(context)
      ?? eagle3Midlayer(context)
      ?? eagle3LayerNames(context)
      ?? dflashDraft(context)
      ?? eagle3SpeculatorsResearch(context)
      ?? hassLayernorms(context)
      ?? vllmParaNorms(context)
      ?? eagle1Family(context)
      ?? causalLanguageModel(context)
  }

  /// Whether `value == factor × base` for a positive `base`, without overflowing on sizes that
  /// come from a file.
  static func isMultiple(_ value: Int, of base: Int, by factor: Int) -> Bool {
    base > 0 && value % base == 0 && value / base == factor
  }

  // MARK: Shared wording

  /// `fc.weight [64, 192] = 3×hidden` (or without the ratio when it is not a whole multiple).
  static func fcText(
    _ context: DetectionContext, name: String = "fc.weight", hidden: Int?, unit: String = "hidden"
  ) -> String {
    guard let columns = context.columns(name) else { return context.described(name) }
    if let hidden, hidden > 0, columns % hidden == 0 {
      return "\(context.described(name)) = \(columns / hidden)×\(unit)"
    }
    return context.described(name)
  }

  /// Notes where the config disagrees with the tensors about sizes or layer count.
  static func configAgreementNotes(_ context: DetectionContext, facts: DetectedFacts) -> [String] {
    guard let geometry = context.geometryConfig else { return [] }
    var notes: [String] = []
    if let declared = geometry.hiddenSize, let hidden = facts.hiddenSize, declared != hidden {
      notes.append(
        "config hidden_size \(declared) disagrees with the tensors (hidden \(hidden)); trusting tensors")
    }
    if let declared = geometry.numHiddenLayers, facts.decoderLayers > 0, declared != facts.decoderLayers {
      notes.append(
        "config num_hidden_layers \(declared) disagrees with the \(facts.decoderLayers) decoder layer(s) "
          + "in the tensors"
      )
    }
    return notes
  }

  // MARK: Fallbacks

  /// Rules 13–14 of the reference plus their EAGLE-1 and verifier analogues: a config
  /// without weights.
  static func configOnlyGuess(_ context: DetectionContext) -> Detection? {
    guard context.names.isEmpty, let config = context.config else { return nil }
    let facts = DetectedFacts.derive(from: context, family: .other)
    let architectures = config.architectures ?? []
    let layerCount = config.numHiddenLayers
    let noWeights = "no tensors found: a guess from config.json alone"
    if architectures.contains(where: { $0.lowercased().contains("eagle3") })
      || (config.draftVocabSize != nil && layerCount == 1)
    {
      var evidence = [noWeights]
      if let text = context.architecturesText { evidence.append("config architectures \(text)") }
      if let draft = config.draftVocabSize { evidence.append("config draft_vocab_size \(draft)") }
      let producer = eagle3MidlayerProducer(context, facts: facts)
      let confidence = architectures.contains(where: { $0.lowercased().contains("eagle3") }) ? 0.6 : 0.5
      var eagle3Facts = DetectedFacts.derive(from: context, family: .eagle3)
      eagle3Facts.decoderLayers = 0
      return Detection(
        format: producer.format, confidence: confidence,
        signature: "config draft_vocab_size / EAGLE-3 architectures, no tensors",
        evidence: evidence + producer.evidence, notes: producer.notes,
        alternatives: producer.format == .eagle3ModelOptV1 ? [.eagle3ModelOptV2] : producer.alternatives,
        facts: eagle3Facts, conversion: .algorithm(.eagle3))
    }
    if let layerCount, layerCount > 1, architectures.contains(where: { $0.hasSuffix("ForCausalLM") }) {
      return Detection(
        format: .hfCausalLM, confidence: 0.6,
        signature:
          "config architectures \(context.architecturesText ?? "") with \(layerCount) layers, no tensors",
        evidence: [
          noWeights, "config architectures \(context.architecturesText ?? "")",
          "config num_hidden_layers \(layerCount)",
        ],
        facts: facts, conversion: .none(reason: notADraftReason))
    }
    if layerCount == 1, architectures.contains(where: { $0.hasSuffix("ForCausalLM") }) {
      var evidence = [
        noWeights, "config architectures \(context.architecturesText ?? ""), num_hidden_layers 1",
      ]
      if config.json["bias"] != nil { evidence.append("config has the EAGLE-1 key \"bias\"") }
      return Detection(
        format: .eagle1, confidence: config.json["bias"] != nil ? 0.5 : 0.4,
        signature: "one-layer Llama config without draft_vocab_size, no tensors",
        evidence: evidence, alternatives: [.hassFusionBias],
        facts: DetectedFacts.derive(from: context, family: .eagle), conversion: .algorithm(.eagle))
    }
    return nil
  }

  static let notADraftReason = "this is a base model, not a draft; pass it as --verifier"

  static func unknown(_ context: DetectionContext) -> Detection {
    var evidence: [String] = []
    if context.names.isEmpty {
      evidence.append("no tensors found")
    } else {
      let shown = (0..<min(6, context.names.count)).map { context.described(context.names[$0]) }
        .joined(separator: ", ")
      evidence.append(
        "\(context.names.count) tensors, none matching a known signature: \(shown)"
          + (context.names.count > 6 ? ", …" : ""))
    }
    if let config = context.config {
      var keys: [String] = []
      if let type = config.modelType { keys.append("model_type \"\(type)\"") }
      if let text = context.architecturesText { keys.append("architectures \(text)") }
      evidence.append(
        keys.isEmpty
          ? "config.json has no model_type or architectures" : "config " + keys.joined(separator: ", "))
    } else {
      evidence.append("no config.json")
    }
    return Detection(
      format: .unknown, confidence: 0, signature: "no known signature", evidence: evidence,
      facts: DetectedFacts.derive(from: context, family: .other),
      conversion: .none(reason: "no known draft layout matched; name the layout with --algorithm"))
  }
}
