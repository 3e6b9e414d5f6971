/// Facts about a checkpoint derived from tensor shapes (first) and `config.json` (fallback).
///
/// Sizes are `nil` when neither the tensors nor the config tell them.
public struct DetectedFacts: Sendable, Hashable {
  /// The draft's hidden size H (rows of `fc.weight`, else norm widths, else config).
  public var hiddenSize: Int?
  /// The verifier hidden size the draft's `fc` expects, when the config gives
  /// `target_hidden_size`.
  public var targetHiddenSize: Int?
  /// The target (verifier) vocabulary size (`t2d` length, embedding rows, else config).
  public var vocabSize: Int?
  /// The draft head's vocabulary (`lm_head.weight` rows, else `d2t` length, else config);
  /// `nil` for layouts without an own head (EAGLE-1/HASS use the verifier's).
  public var draftVocabSize: Int?
  /// Distinct decoder layers (`layers.N.`, `midlayer`, `transformer.`).
  public var decoderLayers: Int
  /// Columns of `fc.weight` (or `fusion_fc.weight`).
  public var fcInputWidth: Int?
  /// Tapped verifier states the EAGLE-3 `fc` takes (fc input / target hidden size).
  public var auxStateCount: Int?
  /// `fc.bias` (or `fusion_fc.bias`) is present.
  public var fusionBias: Bool
  /// HASS-style extra norms are present (`embed_layernorm`, `hidden_layernorm`,
  /// `lm_head_layernorm`, or their Speculators / vLLM names).
  public var layernorms: Bool
  /// `embed_tokens.weight` is present.
  public var embeddingsPresent: Bool
  /// `d2t` (draft → target id offsets) is present.
  public var d2tPresent: Bool
  /// `t2d` (target-id mask) is present.
  public var t2dPresent: Bool
  /// The dtype of the fusion layer's weight (else the most common floating-point dtype).
  public var weightsDType: DType?

  /// Creates a fact sheet.
  package init(
    hiddenSize: Int? = nil, targetHiddenSize: Int? = nil, vocabSize: Int? = nil,
    draftVocabSize: Int? = nil, decoderLayers: Int = 0, fcInputWidth: Int? = nil,
    auxStateCount: Int? = nil, fusionBias: Bool = false, layernorms: Bool = false,
    embeddingsPresent: Bool = false, d2tPresent: Bool = false, t2dPresent: Bool = false,
    weightsDType: DType? = nil
  ) {
    self.hiddenSize = hiddenSize
    self.targetHiddenSize = targetHiddenSize
    self.vocabSize = vocabSize
    self.draftVocabSize = draftVocabSize
    self.decoderLayers = decoderLayers
    self.fcInputWidth = fcInputWidth
    self.auxStateCount = auxStateCount
    self.fusionBias = fusionBias
    self.layernorms = layernorms
    self.embeddingsPresent = embeddingsPresent
    self.d2tPresent = d2tPresent
    self.t2dPresent = t2dPresent
    self.weightsDType = weightsDType
  }

  /// The facts as a JSON object with snake_case keys; unknown sizes are `null`.
  package func json() -> JSONValue {
    func int(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }
    return [
      "hidden_size": int(hiddenSize),
      "target_hidden_size": int(targetHiddenSize),
      "vocab_size": int(vocabSize),
      "draft_vocab_size": int(draftVocabSize),
      "decoder_layers": int(decoderLayers),
      "fc_input_width": int(fcInputWidth),
      "aux_state_count": int(auxStateCount),
      "fusion_bias": .bool(fusionBias),
      "layernorms": .bool(layernorms),
      "embeddings_present": .bool(embeddingsPresent),
      "d2t_present": .bool(d2tPresent),
      "t2d_present": .bool(t2dPresent),
      "weights_dtype": weightsDType.map { .string($0.rawValue) } ?? .null,
    ]
  }
}
