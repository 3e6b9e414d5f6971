import Inspect

/// Builds the Speculators `config.json` (`docs/convert.md`, "Config").
///
/// Differences from what the reference converter (speculators 0.1.0) writes, on purpose:
/// - no `auto_map`, `has_no_defaults_at_init` or `transformers_version` (readers ignore them; we
///   are not transformers), and no top-level `model_type`;
/// - `torch_dtype` is the dtype actually written (the reference always writes `float32`);
/// - `speculative_tokens` is ``speculativeTokens`` (3, the value the reference uses since v0.2.0);
/// - `speculators_version` is this tool's version (``ToolInfo/version``), informational only;
/// - eagle3 keeps the source `rope_scaling` (reference fix #574) and the real layer count.
enum SpeculatorsConfigBuilder {
  /// `proposal_methods[0].speculative_tokens` (the reference value since v0.2.0, #146).
  static let speculativeTokens: Int64 = 3
  /// The decoder class the eagle layout names.
  static let eagleLayerArchitecture = "LlamaDecoderLayer"

  /// `speculators_config`: one greedy proposal of `speculativeTokens` tokens, the verifier's name
  /// as given and its architectures.
  static func speculatorsConfig(
    algorithm: ConversionAlgorithm, verifier: VerifierModel, speculativeTokens: Int64 = speculativeTokens
  ) -> JSONValue {
    [
      "algorithm": .string(algorithm.rawValue),
      "default_proposal_method": "greedy",
      "proposal_methods": [
        [
          "accept_tolerance": 0.0, "proposal_type": "greedy", "speculative_tokens": .int(speculativeTokens),
          "verifier_accept_k": 1,
        ]
      ],
      "verifier": [
        "architectures": .array(verifier.architectures.map(JSONValue.string)),
        "name_or_path": .string(verifier.nameOrPath),
      ],
    ]
  }

  /// The values `transformer_layer_config` is built from.
  struct LayerValues {
    var hiddenSize: Int
    var intermediateSize: Int
    var attentionHeads: Int
    var layerCount: Int
    var vocabSize: Int
    var maxPositionEmbeddings: JSONValue
    var modelType: String
    /// eagle copies bos/eos/pad token ids that differ from Llama's defaults; eagle3 (like the
    /// reference) never writes them.
    var copyTokenIDs: Bool
  }

  /// `transformer_layer_config`: the Llama keys the reference writes, from the source config
  /// with the reference's defaults.
  static func layerConfig(source: ModelConfig, _ values: LayerValues) -> JSONValue {
    func sourceValue(_ key: String, default fallback: JSONValue) -> JSONValue {
      if let value = source.value(key) { return value }
      return fallback
    }
    let headDim: JSONValue =
      source.int("head_dim").map { .int(Int64($0)) }
      ?? .int(Int64(values.hiddenSize / max(values.attentionHeads, 1)))
    var members: [(key: String, value: JSONValue)] = [
      ("attention_bias", sourceValue("attention_bias", default: false)),
      ("attention_dropout", sourceValue("attention_dropout", default: 0.0)),
      ("head_dim", headDim),
      ("hidden_act", sourceValue("hidden_act", default: "silu")),
      ("hidden_size", .int(Int64(values.hiddenSize))),
      ("initializer_range", sourceValue("initializer_range", default: 0.02)),
      ("intermediate_size", .int(Int64(values.intermediateSize))),
      ("max_position_embeddings", values.maxPositionEmbeddings),
      ("mlp_bias", sourceValue("mlp_bias", default: false)),
      ("model_type", .string(values.modelType)),
      ("num_attention_heads", .int(Int64(values.attentionHeads))),
      ("num_hidden_layers", .int(Int64(values.layerCount))),
      (
        "num_key_value_heads", sourceValue("num_key_value_heads", default: .int(Int64(values.attentionHeads)))
      ),
      ("pretraining_tp", sourceValue("pretraining_tp", default: 1)),
      ("rms_norm_eps", sourceValue("rms_norm_eps", default: 1e-6)),
      ("rope_scaling", source.json["rope_scaling"] ?? source.json["text_config"]?["rope_scaling"] ?? .null),
      ("rope_theta", sourceValue("rope_theta", default: 10000.0)),
      ("use_cache", sourceValue("use_cache", default: true)),
      ("vocab_size", .int(Int64(values.vocabSize))),
    ]
    if values.copyTokenIDs {
      // Written only when they differ from LlamaConfig's defaults (bos 1, eos 2, pad null), as
      // the reference's diff-dict serialisation does.
      let defaults: [(String, JSONValue)] = [
        ("bos_token_id", 1), ("eos_token_id", 2), ("pad_token_id", .null),
      ]
      for (key, fallback) in defaults {
        if let value = source.value(key), value != fallback { members.append((key, value)) }
      }
    }
    return .object(members)
  }
}
