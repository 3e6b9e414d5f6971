import Foundation
import Inspect

/// A draft checkpoint before it is written: config plus tensor specs, with mutation helpers.
struct DraftSpec: Sendable {
  var config: JSONValue?
  var tensors: [TensorSpec]

  func tensor(_ name: String) -> TensorSpec? { tensors.first { $0.name == name } }

  mutating func remove(_ name: String) {
    precondition(tensor(name) != nil, "fixture has no tensor \(name)")
    tensors.removeAll { $0.name == name }
  }

  mutating func removeAll(prefix: String) {
    tensors.removeAll { $0.name.hasPrefix(prefix) }
  }

  mutating func rename(_ name: String, to newName: String) {
    guard let index = tensors.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("fixture has no tensor \(name)")
    }
    tensors[index].name = newName
  }

  mutating func add(_ spec: TensorSpec) {
    tensors.append(spec)
  }

  /// Replaces a float tensor's shape (values regenerated) or dtype.
  mutating func reshape(_ name: String, _ shape: [Int]) {
    guard let index = tensors.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("fixture has no tensor \(name)")
    }
    tensors[index] = DraftFixtures.weight(name, shape, dtype: tensors[index].dtype)
  }

  mutating func setDType(_ name: String, _ dtype: DType) {
    guard let index = tensors.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("fixture has no tensor \(name)")
    }
    tensors[index].dtype = dtype
  }

  mutating func setValues(_ name: String, _ values: TensorValues) {
    guard let index = tensors.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("fixture has no tensor \(name)")
    }
    tensors[index].values = values
  }

  /// Sets (or with `nil` removes) a dotted config key such as `speculators_config.algorithm`.
  mutating func setConfig(_ path: String, _ value: JSONValue?) {
    config = Self.setting(config ?? [:], path.split(separator: ".").map(String.init), value)
  }

  private static func setting(_ object: JSONValue, _ path: [String], _ value: JSONValue?) -> JSONValue {
    guard let first = path.first else { return object }
    if path.count == 1 {
      return value.map { object.setting(first, to: $0) } ?? object.removing(first)
    }
    let child = object[first] ?? [:]
    return object.setting(first, to: setting(child, Array(path.dropFirst()), value))
  }

  /// Writes the spec into `directory`.
  func write(to directory: URL, shards: Int = 1, index: JSONValue? = nil) throws -> WrittenCheckpoint {
    try SafetensorsFixture.writeCheckpoint(
      config: config, tensors: tensors, into: directory, shards: shards, index: index)
  }
}

/// Tiny Llama-shaped drafts: hidden 64, intermediate 128, 4 heads, 2 KV heads, head_dim 16,
/// vocab 512, draft vocab 128 (the geometry of the shared Fixtures/).
enum DraftFixtures {
  static let hidden = 64
  static let intermediate = 128
  static let heads = 4
  static let kvHeads = 2
  static let headDim = 16
  static let vocab = 512
  static let draftVocab = 128

  /// Deterministic pseudo-random numbers in [0, 1) (SplitMix64 seeded by the tensor name).
  struct Noise {
    var state: UInt64

    init(_ name: String) {
      var hash: UInt64 = 0xcbf2_9ce4_8422_2325
      for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
      state = hash
    }

    mutating func next() -> Float {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      z ^= z >> 31
      return Float(z >> 40) / Float(1 << 24)
    }
  }

  /// A "trained-looking" weight: cubed uniform noise (std ≈ 0.05, kurtosis ≈ 3.8), far from any
  /// initialisation distribution.
  static func weight(_ name: String, _ shape: [Int], dtype: DType = .F32) -> TensorSpec {
    var noise = Noise(name)
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ -> Float in
      let u = 2 * noise.next() - 1
      return 0.2 * u * u * u
    }
    return TensorSpec(name: name, dtype: dtype, shape: shape, values: .floats(values))
  }

  /// A "trained" norm weight: 1 plus noise.
  static func norm(_ name: String, _ size: Int = hidden, dtype: DType = .F32) -> TensorSpec {
    var noise = Noise(name)
    let values = (0..<size).map { _ in 1 + 0.1 * (noise.next() - 0.5) }
    return TensorSpec(name: name, dtype: dtype, shape: [size], values: .floats(values))
  }

  /// Draft id i ↦ target id 4i: d2t[i] = 3i, t2d marks multiples of 4.
  static func vocabMaps(draft: Int = draftVocab, target: Int = vocab) -> [TensorSpec] {
    let step = target / draft
    let d2t = (0..<draft).map { Int64($0 * (step - 1)) }
    let t2d = (0..<target).map { $0 % step == 0 && $0 / step < draft }
    return [
      TensorSpec(name: "d2t", dtype: .I64, shape: [draft], values: .ints(d2t)),
      TensorSpec(name: "t2d", dtype: .BOOL, shape: [target], values: .bools(t2d)),
    ]
  }

  /// One decoder layer's attention and MLP tensors plus post-attention norm.
  static func layer(_ prefix: String, inputWidth: Int, dtype: DType = .F32, qkNorm: Bool = false)
    -> [TensorSpec]
  {
    var out = [
      weight(prefix + "self_attn.q_proj.weight", [heads * headDim, inputWidth], dtype: dtype),
      weight(prefix + "self_attn.k_proj.weight", [kvHeads * headDim, inputWidth], dtype: dtype),
      weight(prefix + "self_attn.v_proj.weight", [kvHeads * headDim, inputWidth], dtype: dtype),
      weight(prefix + "self_attn.o_proj.weight", [hidden, heads * headDim], dtype: dtype),
      weight(prefix + "mlp.gate_proj.weight", [intermediate, hidden], dtype: dtype),
      weight(prefix + "mlp.up_proj.weight", [intermediate, hidden], dtype: dtype),
      weight(prefix + "mlp.down_proj.weight", [hidden, intermediate], dtype: dtype),
      norm(prefix + "post_attention_layernorm.weight", dtype: dtype),
    ]
    if qkNorm {
      out += [
        norm(prefix + "self_attn.q_norm.weight", headDim, dtype: dtype),
        norm(prefix + "self_attn.k_norm.weight", headDim, dtype: dtype),
      ]
    }
    return out
  }

  static func layerConfig(layers: Int, modelType: String = "llama") -> JSONValue {
    [
      "attention_bias": false, "attention_dropout": 0.0, "head_dim": .int(Int64(headDim)),
      "hidden_act": "silu",
      "hidden_size": .int(Int64(hidden)), "initializer_range": 0.02,
      "intermediate_size": .int(Int64(intermediate)), "max_position_embeddings": 2048, "mlp_bias": false,
      "model_type": .string(modelType), "num_attention_heads": .int(Int64(heads)),
      "num_hidden_layers": .int(Int64(layers)), "num_key_value_heads": .int(Int64(kvHeads)),
      "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "vocab_size": .int(Int64(vocab)),
    ]
  }

  static func speculatorsConfig(algorithm: String, verifier: String) -> JSONValue {
    [
      "algorithm": .string(algorithm), "default_proposal_method": "greedy",
      "proposal_methods": [
        ["accept_tolerance": 0.0, "proposal_type": "greedy", "speculative_tokens": 3, "verifier_accept_k": 1]
      ],
      "verifier": ["architectures": ["LlamaForCausalLM"], "name_or_path": .string(verifier)],
    ]
  }

  /// A good Speculators eagle3 checkpoint (converter layout for 1 layer, trained layout above).
  static func eagle3(
    layers: Int = 1, qwen3: Bool = false, verifier: String = "meta-llama/Llama-3.1-8B-Instruct"
  )
    -> DraftSpec
  {
    let config: JSONValue = [
      "architectures": ["Eagle3Speculator"], "draft_vocab_size": .int(Int64(draftVocab)),
      "norm_before_residual": false,
      "speculators_config": speculatorsConfig(algorithm: "eagle3", verifier: verifier),
      "speculators_model_type": "eagle3", "speculators_version": "0.1.0", "target_hidden_size": nil,
      "torch_dtype": "float32",
      "transformer_layer_config": layerConfig(layers: layers, modelType: qwen3 ? "qwen3" : "llama"),
    ]
    var tensors = [
      weight("embed_tokens.weight", [vocab, hidden]),
      weight("fc.weight", [hidden, 3 * hidden]),
      norm("norm.weight"),
      weight("lm_head.weight", [draftVocab, hidden]),
    ]
    tensors += vocabMaps()
    for i in 0..<layers {
      let prefix = "layers.\(i)."
      tensors += layer(prefix, inputWidth: i == 0 ? 2 * hidden : hidden, qkNorm: qwen3)
      tensors.append(norm(prefix + "input_layernorm.weight"))
      if i == 0 { tensors.append(norm(prefix + "hidden_norm.weight")) }
    }
    return DraftSpec(config: config, tensors: tensors.sorted { $0.name < $1.name })
  }

  /// A good Speculators eagle (EAGLE-1/HASS converted) checkpoint.
  static func eagle(fusionBias: Bool = false, layernorms: Bool = false) -> DraftSpec {
    let config: JSONValue = [
      "architectures": ["EagleSpeculator"], "fusion_bias": .bool(fusionBias), "layernorms": .bool(layernorms),
      "speculators_config": speculatorsConfig(
        algorithm: "eagle", verifier: "meta-llama/Llama-3.1-8B-Instruct"),
      "speculators_model_type": "eagle", "speculators_version": "0.1.0", "torch_dtype": "float32",
      "transformer_layer_architecture": "LlamaDecoderLayer",
      "transformer_layer_config": layerConfig(layers: 1),
    ]
    var tensors = [weight("fusion_fc.weight", [hidden, 2 * hidden])]
    tensors += layer("transformer.", inputWidth: hidden)
    if fusionBias { tensors.append(weight("fusion_fc.bias", [hidden])) }
    if layernorms {
      tensors += [
        norm("embedding_layernorm.weight"), norm("pre_lm_head_layernorm.weight"),
        norm("transformer.input_layernorm.weight"),
      ]
    }
    return DraftSpec(config: config, tensors: tensors.sorted { $0.name < $1.name })
  }

  /// A good Speculators dflash checkpoint (as speculators 0.9.0 converts a z-lab draft, with
  /// non-causal attention kept): 2 Qwen3 layers, 3 aux states, no embedding or head.
  static func dflash(verifier: String = "Qwen/Qwen3-8B") -> DraftSpec {
    let speculators = speculatorsConfig(algorithm: "dflash", verifier: verifier)
    let config: JSONValue = [
      "architectures": ["DFlashDraftModel"], "aux_hidden_state_layer_ids": [1, 2, 3], "block_size": 4,
      "draft_vocab_size": .int(Int64(vocab)), "mask_token_id": 511, "sample_from_anchor": false,
      "sliding_window_non_causal": true, "speculators_config": speculators, "speculators_model_type": "dflash",
      "speculators_version": "0.9.0", "target_hidden_size": nil, "torch_dtype": "float32",
      "transformer_layer_config": layerConfig(layers: 2, modelType: "qwen3"),
    ]
    var tensors = [weight("fc.weight", [hidden, 3 * hidden]), norm("norm.weight"), norm("hidden_norm.weight")]
    for i in 0..<2 {
      tensors += layer("layers.\(i).", inputWidth: hidden, qkNorm: true)
      tensors.append(norm("layers.\(i).input_layernorm.weight"))
    }
    return DraftSpec(config: config, tensors: tensors.sorted { $0.name < $1.name })
  }

  /// A raw SafeAILab EAGLE-3 draft (`midlayer.*`, F16, no embed_tokens).
  static func rawEagle3() -> DraftSpec {
    let config: JSONValue = [
      "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": .int(Int64(hidden)),
      "intermediate_size": .int(Int64(intermediate)), "num_attention_heads": .int(Int64(heads)),
      "num_key_value_heads": .int(Int64(kvHeads)), "num_hidden_layers": 1, "vocab_size": .int(Int64(vocab)),
      "draft_vocab_size": .int(Int64(draftVocab)), "torch_dtype": "float16", "rms_norm_eps": 1e-05,
    ]
    var tensors = [
      weight("fc.weight", [hidden, 3 * hidden], dtype: .F16), norm("norm.weight", dtype: .F16),
      weight("lm_head.weight", [draftVocab, hidden], dtype: .F16),
      norm("midlayer.input_layernorm.weight", dtype: .F16), norm("midlayer.hidden_norm.weight", dtype: .F16),
    ]
    tensors += layer("midlayer.", inputWidth: 2 * hidden, dtype: .F16)
    tensors += vocabMaps()
    return DraftSpec(config: config, tensors: tensors.sorted { $0.name < $1.name })
  }

  /// A raw EAGLE-1 draft (`fc` [H, 2H], `layers.0.*` without input norm, embed_tokens, F16).
  static func rawEagle1() -> DraftSpec {
    let config: JSONValue = [
      "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": .int(Int64(hidden)),
      "intermediate_size": .int(Int64(intermediate)), "num_attention_heads": .int(Int64(heads)),
      "num_key_value_heads": .int(Int64(kvHeads)), "num_hidden_layers": 1, "vocab_size": .int(Int64(vocab)),
      "torch_dtype": "float16", "bias": false,
    ]
    var tensors = [
      weight("embed_tokens.weight", [vocab, hidden], dtype: .F16),
      weight("fc.weight", [hidden, 2 * hidden], dtype: .F16),
    ]
    tensors += layer("layers.0.", inputWidth: hidden, dtype: .F16)
    return DraftSpec(config: config, tensors: tensors.sorted { $0.name < $1.name })
  }

  /// The verifier's config.json: Llama, hidden 64, 4 layers, vocab 512.
  static func verifierConfig(
    hidden: Int = hidden, vocab: Int = vocab, layers: Int = 8, architecture: String = "LlamaForCausalLM"
  ) -> JSONValue {
    [
      "architectures": [.string(architecture)], "model_type": "llama", "hidden_size": .int(Int64(hidden)),
      "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2,
      "num_hidden_layers": .int(Int64(layers)), "vocab_size": .int(Int64(vocab)), "torch_dtype": "bfloat16",
    ]
  }

  /// Writes a verifier directory (config.json only) and returns its path.
  static func writeVerifier(_ config: JSONValue = verifierConfig(), in parent: URL, name: String = "verifier")
    throws
    -> URL
  {
    let url = parent.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    try Data(JSONWriter.pretty(config).utf8).write(to: url.appendingPathComponent("config.json"))
    return url
  }
}
