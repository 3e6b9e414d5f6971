/// A typed, read-only view of a Hugging Face `config.json`, for the fields this tool needs.
///
/// Fields are looked up at the top level first and then under `text_config` (multimodal
/// verifiers such as Llama-4 or Qwen2.5-VL nest the language model there). For a Speculators
/// config, ``layer`` gives the view of `transformer_layer_config`.
package struct ModelConfig: Sendable, Hashable {
  /// The raw JSON.
  package let json: JSONValue

  /// Wraps a parsed `config.json`.
  package init(_ json: JSONValue) {
    self.json = json
  }

  /// The value for `key` at the top level, else under `text_config`.
  package func value(_ key: String) -> JSONValue? {
    if let direct = json[key], !direct.isNull { return direct }
    if let nested = json["text_config"]?[key], !nested.isNull { return nested }
    return nil
  }

  /// An integer field (top level, else `text_config`). A key with bounds (``ConfigBounds``)
  /// gives `nil` when its value is not an integer inside them, so no consumer ever computes
  /// with an out-of-range size or count; ``outOfBounds`` lists such values.
  package func int(_ key: String) -> Int? { ConfigBounds.checked(key, value(key)) }
  /// A string field (top level, else `text_config`).
  package func string(_ key: String) -> String? { value(key)?.stringValue }
  /// A boolean field (top level, else `text_config`).
  package func bool(_ key: String) -> Bool? { value(key)?.boolValue }

  /// `model_type`.
  package var modelType: String? { string("model_type") }
  /// `architectures`.
  package var architectures: [String]? {
    value("architectures")?.arrayValue?.compactMap(\.stringValue)
  }
  /// `layer_types` (`full_attention`, `sliding_attention`, ... per decoder layer).
  package var layerTypes: [String]? {
    value("layer_types")?.arrayValue?.compactMap(\.stringValue)
  }
  /// `hidden_size` (also accepts the MLP speculator's `emb_dim`).
  package var hiddenSize: Int? { int("hidden_size") ?? int("emb_dim") }
  /// `intermediate_size`.
  package var intermediateSize: Int? { int("intermediate_size") }
  /// `num_hidden_layers`.
  package var numHiddenLayers: Int? { int("num_hidden_layers") }
  /// `num_attention_heads`.
  package var numAttentionHeads: Int? { int("num_attention_heads") }
  /// `num_key_value_heads`, defaulting to the attention head count.
  package var numKeyValueHeads: Int? { int("num_key_value_heads") ?? numAttentionHeads }
  /// `head_dim`, defaulting to hidden size / heads.
  package var headDim: Int? {
    if let explicit = int("head_dim") { return explicit }
    guard let hidden = hiddenSize, let heads = numAttentionHeads, heads > 0 else { return nil }
    return hidden / heads
  }
  /// `vocab_size`.
  package var vocabSize: Int? { int("vocab_size") }
  /// `draft_vocab_size` (or the alias `truncated_vocab_size`).
  package var draftVocabSize: Int? { int("draft_vocab_size") ?? int("truncated_vocab_size") }
  /// `target_hidden_size`.
  package var targetHiddenSize: Int? { int("target_hidden_size") }
  /// `torch_dtype` or `dtype`, as a safetensors dtype.
  package var dtype: DType? {
    (string("torch_dtype") ?? string("dtype")).flatMap(DType.init(torchName:))
  }
  /// `speculators_model_type`, present only in Speculators configs.
  package var speculatorsModelType: String? { json["speculators_model_type"]?.stringValue }
  /// The view of `transformer_layer_config` (Speculators configs).
  package var layer: ModelConfig? {
    guard let nested = json["transformer_layer_config"], nested.objectMembers != nil else { return nil }
    return ModelConfig(nested)
  }

  /// Every bounded number (``ConfigBounds``) in this config that is not an integer inside its
  /// bounds: at the top level, under `text_config` and under `transformer_layer_config`.
  package var outOfBounds: [ConfigBounds.Violation] { ConfigBounds.violations(in: json) }

  /// The first `vocab_size` found by a depth-first search of the whole config (the rule the
  /// reference converter uses for verifiers with nested configs).
  package var anyVocabSize: Int? {
    func search(_ value: JSONValue) -> Int? {
      guard let members = value.objectMembers else { return nil }
      if let direct = members.first(where: { $0.key == "vocab_size" }) {
        return ConfigBounds.checked("vocab_size", direct.value)
      }
      for member in members {
        if let found = search(member.value) { return found }
      }
      return nil
    }
    return search(json)
  }
}
