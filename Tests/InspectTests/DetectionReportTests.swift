import Testing

@testable import Inspect

/// The detection block of `inspect --json`, and the `--algorithm` check `convert` uses.
@Suite struct DetectionReportTests {
  typealias S = SyntheticDrafts

  static let safeAILab = FormatDetector.detect(
    S.checkpoint(S.eagle3Midlayer(), config: S.draftConfig(draftVocabSize: S.draftVocab), files: [S.binFile]))

  @Test func jsonBlockHasEveryKey() throws {
    let json = Self.safeAILab.json()
    #expect(
      json.objectMembers?.map(\.key) == [
        "format", "title", "family", "confidence", "signature", "evidence", "notes", "alternatives",
        "stripped_prefix", "facts", "algorithm", "no_algorithm_reason",
      ])
    #expect(json["format"] == "eagle3-safeailab")
    #expect(json["family"] == "eagle3")
    #expect(json["confidence"] == 0.8)
    #expect(json["algorithm"] == "eagle3")
    #expect(json["no_algorithm_reason"] == .null)
    #expect(json["stripped_prefix"] == .null)
    #expect(json["alternatives"] == ["eagle3-specforge"])
    #expect(json["evidence"]?.arrayValue?.count == Self.safeAILab.evidence.count)
    let facts = try #require(json["facts"])
    #expect(facts["hidden_size"] == 64)
    #expect(facts["draft_vocab_size"] == 128)
    #expect(facts["vocab_size"] == 512)
    #expect(facts["aux_state_count"] == 3)
    #expect(facts["target_hidden_size"] == .null)
    #expect(facts["t2d_present"] == true)
    #expect(facts["embeddings_present"] == false)
    #expect(facts["weights_dtype"] == "F16")
  }

  @Test func jsonForANonConvertibleFormatCarriesTheReason() {
    let json = FormatDetector.detect(S.checkpoint(S.llamaVerifier())).json()
    #expect(json["algorithm"] == .null)
    #expect(json["no_algorithm_reason"] == "this is a base model, not a draft; pass it as --verifier")
  }

  @Test func jsonRoundsConfidenceAndRecordsThePrefix() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.eagle3Layers(embed: true, d2t: true, t2d: true, prefix: "model.")))
    #expect(detection.json()["stripped_prefix"] == "model.")
    #expect(Detection.rounded(0.6666) == 0.67)
  }

  // MARK: --algorithm check

  @Test func matchingAlgorithmPasses() {
    #expect(Self.safeAILab.conflict(withRequested: .eagle3) == nil)
    let eagle1 = FormatDetector.detect(S.checkpoint(S.eagle1()))
    #expect(eagle1.conflict(withRequested: .eagle) == nil)
  }

  @Test func contradictingAlgorithmNamesTheLayoutAndItsSignature() {
    #expect(
      Self.safeAILab.conflict(withRequested: .eagle)
        == "--algorithm eagle contradicts the detected layout eagle3-safeailab (midlayer.* tensors, "
        + "fc.weight [64, 192] = 3×hidden); it converts with --algorithm eagle3")
    let hass = FormatDetector.detect(S.checkpoint(S.hassLayernorms()))
    #expect(
      hass.conflict(withRequested: .eagle3)?.hasPrefix(
        "--algorithm eagle3 contradicts the detected layout hass-layernorms (embed_layernorm/hidden_layernorm/"
      ) == true)
  }

  @Test func aBaseModelIsRefusedForEitherAlgorithm() {
    let verifier = FormatDetector.detect(S.checkpoint(S.llamaVerifier()))
    for algorithm in ConversionAlgorithm.allCases {
      #expect(
        verifier.conflict(withRequested: algorithm)
          == "--algorithm \(algorithm.rawValue) contradicts the detected layout hf-causal-lm (model.layers.* with "
          + "input_layernorm, model.norm.weight, no fc.weight): "
          + "this is a base model, not a draft; pass it as --verifier"
      )
    }
  }

  @Test func alreadyConvertedSpeculatorsIsRefused() {
    let detection = FormatDetector.detect(
      S.checkpoint(S.speculatorsEagle3(), config: S.speculatorsConfig(type: "eagle3")))
    #expect(
      detection.conflict(withRequested: .eagle3)?.hasSuffix(
        "already in the Speculators format (eagle3); nothing to convert, check it with verify") == true)
  }

  @Test func unknownLayoutCannotBeContradicted() {
    let detection = FormatDetector.detect(S.checkpoint([S.tensor("w", [2])]))
    for algorithm in ConversionAlgorithm.allCases {
      #expect(detection.conflict(withRequested: algorithm) == nil)
    }
  }

  @Test func algorithmRawValuesAreTheCommandLineSpellings() {
    #expect(ConversionAlgorithm(rawValue: "eagle") == .eagle)
    #expect(ConversionAlgorithm(rawValue: "eagle3") == .eagle3)
    #expect(ConversionAlgorithm(rawValue: "auto") == nil)
    #expect(ImpliedConversion.algorithm(.eagle).reason == nil)
    #expect(ImpliedConversion.none(reason: "r").algorithm == nil)
  }
}
