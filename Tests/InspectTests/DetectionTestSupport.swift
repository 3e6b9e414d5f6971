@testable import Inspect

/// Hand-built checkpoints with the tiny fixture geometry (hidden 64, intermediate 128, 4 heads,
/// 2 KV heads, head dim 16, vocab 512, draft vocab 128). Only names, shapes and dtypes matter
/// to the detector; layouts are `.contiguous(offset: 0, length: n)` in a file named "x".
enum SyntheticDrafts {
  static let hidden = 64
  static let intermediate = 128
  static let heads = 4
  static let kvHeads = 2
  static let headDim = 16
  static let vocab = 512
  static let draftVocab = 128

  static func tensor(_ name: String, _ shape: [Int], _ dtype: DType = .BF16) -> TensorInfo {
    let length = checkedByteCount(shape: shape, dtype: dtype) ?? 0
    return TensorInfo(
      name: name, dtype: dtype, shape: shape, file: "x", layout: .contiguous(offset: 0, length: length))
  }

  static let binFile = CheckpointFile(
    path: "/d/pytorch_model.bin", name: "pytorch_model.bin", size: 1, kind: .torchZip)
  static let safetensorsFile = CheckpointFile(
    path: "/d/model.safetensors", name: "model.safetensors", size: 1, kind: .safetensors)
  static let configFile = CheckpointFile(path: "/d/config.json", name: "config.json", size: 1, kind: .config)

  static func checkpoint(
    _ tensors: [TensorInfo], config: JSONValue? = nil, files: [CheckpointFile] = [safetensorsFile],
    location: String = "/d"
  ) -> Checkpoint {
    Checkpoint(
      location: location, directory: location, files: files + (config == nil ? [] : [configFile]),
      config: config, tensors: tensors)
  }

  /// A Llama decoder layer under `prefix` (for example `layers.0.`) whose attention takes
  /// `inputWidth` features.
  static func decoderLayer(
    _ prefix: String, inputWidth: Int = hidden, inputNorm: Bool, hiddenNorm: Bool = false,
    dtype: DType = .BF16
  ) -> [TensorInfo] {
    var tensors = [
      tensor(prefix + "self_attn.q_proj.weight", [heads * headDim, inputWidth], dtype),
      tensor(prefix + "self_attn.k_proj.weight", [kvHeads * headDim, inputWidth], dtype),
      tensor(prefix + "self_attn.v_proj.weight", [kvHeads * headDim, inputWidth], dtype),
      tensor(prefix + "self_attn.o_proj.weight", [hidden, heads * headDim], dtype),
      tensor(prefix + "mlp.gate_proj.weight", [intermediate, hidden], dtype),
      tensor(prefix + "mlp.up_proj.weight", [intermediate, hidden], dtype),
      tensor(prefix + "mlp.down_proj.weight", [hidden, intermediate], dtype),
      tensor(prefix + "post_attention_layernorm.weight", [hidden], dtype),
    ]
    if inputNorm { tensors.append(tensor(prefix + "input_layernorm.weight", [hidden], dtype)) }
    if hiddenNorm { tensors.append(tensor(prefix + "hidden_norm.weight", [hidden], dtype)) }
    return tensors
  }

  /// EAGLE-1/2 (and official HASS) tensors.
  static func eagle1(dtype: DType = .F16, bias: Bool = false, embed: Bool = true) -> [TensorInfo] {
    var tensors = [tensor("fc.weight", [hidden, 2 * hidden], dtype)]
    if bias { tensors.append(tensor("fc.bias", [hidden], dtype)) }
    if embed { tensors.append(tensor("embed_tokens.weight", [vocab, hidden], dtype)) }
    return tensors + decoderLayer("layers.0.", inputNorm: false, dtype: dtype)
  }

  /// HASS with the three extra norms (Speculators research/hass).
  static func hassLayernorms(dtype: DType = .F32) -> [TensorInfo] {
    eagle1(dtype: dtype)
      + ["embed_layernorm.weight", "hidden_layernorm.weight", "lm_head_layernorm.weight"].map {
        tensor($0, [hidden], dtype)
      }
  }

  /// The EAGLE-3 tensors other than the decoder layer.
  static func eagle3Common(
    dtype: DType, embed: Bool, d2t: Bool, t2d: Bool, headRows: Int = draftVocab, aux: Int = 3
  ) -> [TensorInfo] {
    var tensors = [
      tensor("fc.weight", [hidden, aux * hidden], dtype),
      tensor("norm.weight", [hidden], dtype),
      tensor("lm_head.weight", [headRows, hidden], dtype),
    ]
    if embed { tensors.append(tensor("embed_tokens.weight", [vocab, hidden], dtype)) }
    if d2t { tensors.append(tensor("d2t", [headRows], .I64)) }
    if t2d { tensors.append(tensor("t2d", [vocab], .BOOL)) }
    return tensors
  }

  /// EAGLE-3 with SafeAILab / SpecForge / ModelOpt-v1 `midlayer.*` names.
  static func eagle3Midlayer(
    dtype: DType = .F16, embed: Bool = false, d2t: Bool = true, t2d: Bool = true, headRows: Int = draftVocab
  ) -> [TensorInfo] {
    eagle3Common(dtype: dtype, embed: embed, d2t: d2t, t2d: t2d, headRows: headRows)
      + decoderLayer("midlayer.", inputWidth: 2 * hidden, inputNorm: true, hiddenNorm: true, dtype: dtype)
  }

  /// EAGLE-3 with `layers.N.*` names (ModelOpt v2, Speculators, NeMo); layers ≥ 1 are standard.
  static func eagle3Layers(
    dtype: DType = .BF16, embed: Bool = false, d2t: Bool = true, t2d: Bool = false, layers: Int = 1,
    prefix: String = ""
  ) -> [TensorInfo] {
    var tensors =
      eagle3Common(dtype: dtype, embed: embed, d2t: d2t, t2d: t2d)
      + decoderLayer("layers.0.", inputWidth: 2 * hidden, inputNorm: true, hiddenNorm: true, dtype: dtype)
    for index in 1..<max(layers, 1) {
      tensors += decoderLayer("layers.\(index).", inputNorm: true, dtype: dtype)
    }
    return tensors.map { info in
      var renamed = info
      if info.name != "lm_head.weight" { renamed.name = prefix + info.name }
      return renamed
    }
  }

  /// A Llama causal LM with `layers` decoder layers under `model.`.
  static func llamaVerifier(layers: Int = 4, tied: Bool = false) -> [TensorInfo] {
    var tensors = [
      tensor("model.embed_tokens.weight", [vocab, hidden]),
      tensor("model.norm.weight", [hidden]),
    ]
    if !tied { tensors.append(tensor("lm_head.weight", [vocab, hidden])) }
    for index in 0..<layers {
      tensors += decoderLayer("model.layers.\(index).", inputNorm: true)
    }
    return tensors
  }

  /// A one-layer draft Llama config (the style of EAGLE / SpecForge configs).
  static func draftConfig(
    architectures: [String] = ["LlamaForCausalLM"], draftVocabSize: Int? = nil, layers: Int = 1,
    extra: [(String, JSONValue)] = []
  ) -> JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("architectures", .array(architectures.map(JSONValue.string))),
      ("model_type", "llama"),
      ("hidden_size", .int(Int64(hidden))),
      ("intermediate_size", .int(Int64(intermediate))),
      ("num_attention_heads", .int(Int64(heads))),
      ("num_key_value_heads", .int(Int64(kvHeads))),
      ("num_hidden_layers", .int(Int64(layers))),
      ("vocab_size", .int(Int64(vocab))),
    ]
    if let draftVocabSize { members.append(("draft_vocab_size", .int(Int64(draftVocabSize)))) }
    members += extra.map { (key: $0.0, value: $0.1) }
    return .object(members)
  }

  /// ModelOpt's `eagle_config` block.
  static let modelOptEagleConfig: JSONValue = [
    "eagle_aux_hidden_state_layer_ids": [1, 1, 1], "use_aux_hidden_state": true,
    "use_input_layernorm_in_first_layer": true, "use_last_layernorm": true, "use_mtp_layernorm": false,
  ]

  /// A Speculators config of type `type`.
  static func speculatorsConfig(type: String) -> JSONValue {
    [
      "architectures": ["Eagle3Speculator"],
      "speculators_model_type": .string(type),
      "speculators_version": "0.1.0",
      "draft_vocab_size": .int(Int64(draftVocab)),
      "speculators_config": [
        "algorithm": .string(type), "default_proposal_method": "greedy",
        "proposal_methods": [["proposal_type": "greedy", "speculative_tokens": 3]],
        "verifier": ["architectures": ["LlamaForCausalLM"], "name_or_path": "./verifier"],
      ],
      "transformer_layer_config": [
        "model_type": "llama", "hidden_size": .int(Int64(hidden)), "num_hidden_layers": 1,
        "num_attention_heads": .int(Int64(heads)), "vocab_size": .int(Int64(vocab)),
      ],
    ]
  }

  /// Speculators eagle3 tensors (what the converter writes).
  static func speculatorsEagle3() -> [TensorInfo] {
    eagle3Layers(embed: true, d2t: true, t2d: true)
  }

  /// Speculators eagle (legacy) tensors.
  static func speculatorsEagle(bias: Bool = false) -> [TensorInfo] {
    var tensors = [tensor("fusion_fc.weight", [hidden, 2 * hidden], .F32)]
    if bias { tensors.append(tensor("fusion_fc.bias", [hidden], .F32)) }
    return tensors + decoderLayer("transformer.", inputNorm: false, dtype: .F32)
  }
}

extension Detection {
  /// Every evidence line and note, for substring checks.
  var allText: String { (evidence + notes + [signature]).joined(separator: "\n") }
}
