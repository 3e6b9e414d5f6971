import Inspect

/// The geometry and numerics of a Llama-family decoder stack, read from a `config.json` (or a
/// Speculators `transformer_layer_config`), with the defaults the model's reference
/// implementation uses for absent keys. Biases (Qwen2's q/k/v, `attention_bias`) are used
/// wherever the checkpoint has them.
struct TransformerShape: Sendable {
  /// The model families the probe runs.
  enum Family: String, Sendable {
    /// Llama 2/3 and Mistral (no qkv bias unless `attention_bias`).
    case llama
    /// Qwen2: bias on q/k/v.
    case qwen2
    /// Qwen3: per-head RMSNorm on q and k.
    case qwen3
  }

  var family: Family
  var hiddenSize: Int
  var intermediateSize: Int
  var layerCount: Int
  var heads: Int
  var kvHeads: Int
  var headDim: Int
  var vocabSize: Int
  var rmsNormEpsilon: Float
  var rope: RotaryEmbedding.Parameters
  /// Attention looks back at most this many positions (Mistral's `sliding_window`).
  var slidingWindow: Int?
  /// `tie_word_embeddings`.
  var tiedEmbeddings: Bool

  /// Model types (`model_type`) and the family each belongs to.
  static let families: [String: Family] = [
    "llama": .llama, "mistral": .llama, "qwen2": .qwen2, "qwen3": .qwen3,
  ]

  /// Reads the shape from `config`; `file` names the config in errors.
  ///
  /// - Throws: ``ProbeError`` (`.unsupported`) for another model type or a feature the probe
  ///   does not run (an activation other than SiLU, a RoPE scaling other than llama3/linear,
  ///   partial rotary); (`.invalidInput`) for a missing or out-of-range number.
  init(config: ModelConfig, file: String, defaultFamily: Family? = nil) throws(ProbeError) {
    let modelType = config.modelType
    guard let family = modelType.flatMap({ Self.families[$0] }) ?? (modelType == nil ? defaultFamily : nil) else {
      let architectures = config.architectures?.joined(separator: ", ") ?? "none"
      throw ProbeError(
        .unsupported, file: file,
        reason:
          "model_type '\(modelType ?? "absent")' (architectures: \(architectures)) is not supported by the probe: "
          + "it runs Llama, Mistral, Qwen2 and Qwen3 models")
    }
    self.family = family
    func positive(_ key: String, _ value: Int?, limit: Int = 1 << 24) throws(ProbeError) -> Int {
      guard let value else {
        throw ProbeError(.invalidInput, file: file, reason: "config has no '\(key)'")
      }
      guard value > 0, value <= limit else {
        throw ProbeError(.invalidInput, file: file, reason: "config '\(key)' is \(value), outside 1...\(limit)")
      }
      return value
    }
    hiddenSize = try positive("hidden_size", config.hiddenSize, limit: 1 << 16)
    intermediateSize = try positive("intermediate_size", config.intermediateSize, limit: 1 << 18)
    layerCount = try positive("num_hidden_layers", config.numHiddenLayers, limit: 1024)
    heads = try positive("num_attention_heads", config.numAttentionHeads, limit: 1024)
    kvHeads = try positive("num_key_value_heads", config.numKeyValueHeads, limit: 1024)
    headDim = try positive("head_dim", config.headDim, limit: 4096)
    vocabSize = try positive("vocab_size", config.vocabSize, limit: 1 << 24)
    guard heads % kvHeads == 0 else {
      throw ProbeError(
        .invalidInput, file: file,
        reason: "num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)")
    }
    guard headDim % 2 == 0 else {
      throw ProbeError(.invalidInput, file: file, reason: "head_dim \(headDim) is odd: rotary embedding needs pairs")
    }
    if let activation = config.string("hidden_act") ?? config.string("hidden_activation"), activation != "silu" {
      throw ProbeError(.unsupported, file: file, reason: "hidden_act '\(activation)' is not supported (only silu)")
    }
    let epsilon = config.value("rms_norm_eps")?.doubleValue ?? 1e-6
    guard epsilon.isFinite, epsilon >= 0, epsilon < 1 else {
      throw ProbeError(.invalidInput, file: file, reason: "rms_norm_eps \(epsilon) is outside [0, 1)")
    }
    rmsNormEpsilon = Float(epsilon)
    rope = try RotaryEmbedding.Parameters(config: config, headDim: headDim, file: file)
    tiedEmbeddings = config.bool("tie_word_embeddings") ?? false
    slidingWindow = nil
    if family == .llama, let window = config.int("sliding_window") {
      guard window > 0 else {
        throw ProbeError(.invalidInput, file: file, reason: "sliding_window \(window) is not positive")
      }
      slidingWindow = window
    }
    if family != .llama, config.bool("use_sliding_window") == true {
      throw ProbeError(.unsupported, file: file, reason: "use_sliding_window is not supported by the probe")
    }
  }
}
