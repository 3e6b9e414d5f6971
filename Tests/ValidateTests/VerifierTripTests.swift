import Foundation
import Testing

@testable import Inspect
@testable import Validate

/// One mutation of a good fixture and the finding it must produce.
struct Trip: Sendable, CustomTestStringConvertible {
  var name: String
  var id: CheckID
  var severity: Severity
  /// Substrings the message must contain: the tensor or key, the expected and the found value.
  var mentions: [String]
  var base: @Sendable () -> DraftSpec = { DraftFixtures.eagle3() }
  var mutate: @Sendable (inout DraftSpec) -> Void = { _ in }
  /// The verifier's config; `nil` runs without a verifier.
  var verifier: JSONValue? = DraftFixtures.verifierConfig()
  var content = false
  var shards = 1
  var index: JSONValue? = nil

  var testDescription: String { "\(id.rawValue): \(name)" }
}

extension Trip {
  static func config(
    _ name: String, _ id: CheckID, _ severity: Severity, _ mentions: [String],
    base: @escaping @Sendable () -> DraftSpec = { DraftFixtures.eagle3() },
    _ mutate: @escaping @Sendable (inout DraftSpec) -> Void
  ) -> Trip {
    Trip(name: name, id: id, severity: severity, mentions: mentions, base: base, mutate: mutate)
  }

  static func config(
    _ name: String, _ id: CheckID, _ mentions: [String],
    base: @escaping @Sendable () -> DraftSpec = { DraftFixtures.eagle3() },
    _ mutate: @escaping @Sendable (inout DraftSpec) -> Void
  ) -> Trip {
    Trip(name: name, id: id, severity: .error, mentions: mentions, base: base, mutate: mutate)
  }
}

/// Runs a trip and returns the report and the findings of its check.
func runTrip(_ trip: Trip) throws -> (VerifyReport, [Finding]) {
  let root = try SafetensorsFixture.temporaryDirectory()
  defer { try? FileManager.default.removeItem(at: root) }
  var spec = trip.base()
  trip.mutate(&spec)
  let written = try spec.write(
    to: root.appendingPathComponent("draft"), shards: trip.shards, index: trip.index)
  var options = VerifyOptions(scanContent: trip.content)
  if let config = trip.verifier {
    options.verifier = try DraftFixtures.writeVerifier(config, in: root).path
  }
  let report = try Verifier.verify(checkpoint: written.checkpoint, options: options)
  return (report, report.findings(trip.id))
}

@Suite struct VerifierTripTests {
  static let h = DraftFixtures.hidden

  static let configTrips: [Trip] = [
    Trip(
      name: "config.json absent", id: .configPresent, severity: .error, mentions: ["config.json", "absent"],
      mutate: { $0.config = nil }),
    .config(
      "verifier.name_or_path removed", .configRequiredKeys,
      ["speculators_config.verifier.name_or_path", "a non-empty string", "absent"]
    ) {
      $0.setConfig("speculators_config.verifier.name_or_path", nil)
    },
    .config(
      "speculative_tokens removed", .configRequiredKeys, ["proposal_methods[0].speculative_tokens", "absent"]
    ) {
      $0.setConfig("speculators_config.proposal_methods", [["proposal_type": "greedy"]])
    },
    .config("speculators_config null", .configRequiredKeys, ["speculators_config", "an object", "null"]) {
      $0.setConfig("speculators_config", .null)
    },
    .config(
      "norm_before_residual is a string", .configKeyTypes, ["norm_before_residual", "a boolean", "\"yes\""]
    ) {
      $0.setConfig("norm_before_residual", "yes")
    },
    .config(
      "unknown proposal type", .configKeyTypes,
      ["proposal_methods[0].proposal_type", "one of greedy", "\"beam\""]
    ) {
      $0.setConfig(
        "speculators_config.proposal_methods", [["proposal_type": "beam", "speculative_tokens": 3]])
    },
    .config(
      "rope_theta negative", .configKeyTypes,
      ["transformer_layer_config.rope_theta", "a positive number", "-1.0"]
    ) {
      $0.setConfig("transformer_layer_config.rope_theta", -1.0)
    },
    .config(
      "head_dim at 2^62", .configValueBounds,
      ["transformer_layer_config.head_dim", "4611686018427387904", "an integer from 1 to 16777216"]
    ) {
      $0.setConfig("transformer_layer_config.head_dim", .int(1 << 62))
    },
    .config(
      "num_hidden_layers at 2^32", .configValueBounds,
      ["transformer_layer_config.num_hidden_layers", "4294967296", "an integer from 1 to 65536"]
    ) {
      $0.setConfig("transformer_layer_config.num_hidden_layers", .int(1 << 32))
    },
    .config(
      "target_hidden_size at Int64.min", .configValueBounds,
      ["target_hidden_size", "-9223372036854775808", "an integer from 1 to 16777216"]
    ) {
      $0.setConfig("target_hidden_size", .int(Int64.min))
    },
    .config(
      "3 heads for hidden size \(h)", .configAttentionHeads,
      ["transformer_layer_config.num_attention_heads", "a divisor of hidden_size \(h)", "3"]
    ) {
      $0.setConfig("transformer_layer_config.num_attention_heads", 3)
      $0.setConfig("transformer_layer_config.head_dim", nil)
    },
    .config(
      "3 key/value heads for 4 heads", .configAttentionHeads,
      ["transformer_layer_config.num_key_value_heads", "a divisor of num_attention_heads", "3"]
    ) {
      $0.setConfig("transformer_layer_config.num_attention_heads", 4)
      $0.setConfig("transformer_layer_config.num_key_value_heads", 3)
    },
    .config(
      "hidden_size a float", .configValueBounds, ["transformer_layer_config.hidden_size", "64.0"]
    ) {
      $0.setConfig("transformer_layer_config.hidden_size", .double(64))
    },
    .config("top-level model_type", .configTopLevelModelType, ["model_type", "absent", "\"llama\""]) {
      $0.setConfig("model_type", "llama")
    },
    .config(
      "unknown speculators_model_type", .configModelType, ["speculators_model_type", "known", "'eagle4'"]
    ) {
      $0.setConfig("speculators_model_type", "eagle4")
    },
    .config(
      "speculators_model_type without a tensor table", .configModelType, .warning,
      ["speculators_model_type", "dflash, dflash2, dspark", "'independent'"]
    ) {
      $0.setConfig("speculators_model_type", "independent")
      $0.setConfig("speculators_config.algorithm", "independent")
    },
    .config(
      "algorithm differs", .configModelTypeAlgorithm, ["speculators_config.algorithm", "'eagle3'", "'eagle'"]
    ) {
      $0.setConfig("speculators_config.algorithm", "eagle")
    },
    .config(
      "eagle type", .configVLLMSupport, .error, ["speculators_model_type", "refuses", "'eagle'", "eagle3"],
      base: { DraftFixtures.eagle() }
    ) { _ in },
    .config(
      "layer model_type removed (eagle3)", .configLayerModelType, .warning,
      ["transformer_layer_config.model_type", "llama or qwen3", "absent"]
    ) {
      $0.setConfig("transformer_layer_config.model_type", nil)
    },
    .config(
      "layer model_type removed (eagle)", .configLayerModelType, .error,
      ["transformer_layer_config.model_type", "llama", "absent"], base: { DraftFixtures.eagle() }
    ) {
      $0.setConfig("transformer_layer_config.model_type", nil)
    },
    .config(
      "default proposal not a proposal type", .configDefaultProposal, .warning,
      ["default_proposal_method", "greedy", "'tree'"]
    ) {
      $0.setConfig("speculators_config.default_proposal_method", "tree")
    },
    .config(
      "norm_before_residual missing", .configNormBeforeResidualMissing,
      ["norm_before_residual", "explicit", "absent", "vLLM assumes true"]
    ) {
      $0.setConfig("norm_before_residual", nil)
    },
    .config("norm_before_fc and fc_norm", .configFlagExclusive, ["norm_before_fc", "fc_norm", "both true"]) {
      $0.setConfig("norm_before_fc", true)
      $0.setConfig("fc_norm", true)
    },
    .config(
      "aux ids not ascending", .configAuxLayerIDs, .warning,
      ["eagle_aux_hidden_state_layer_ids", "[1, 2, 3]", "[3, 1, 2]"]
    ) {
      $0.setConfig("eagle_aux_hidden_state_layer_ids", [3, 1, 2])
    },
    .config(
      "aux ids repeated", .configAuxLayerIDs, .error,
      ["eagle_aux_hidden_state_layer_ids", "distinct", "[2, 3, 3]", "first decode step"]
    ) {
      $0.setConfig("eagle_aux_hidden_state_layer_ids", [2, 3, 3])
    },
    .config(
      "aux ids empty", .configAuxLayerIDs, .warning, ["eagle_aux_hidden_state_layer_ids", "non-empty", "[]"]
    ) {
      $0.setConfig("eagle_aux_hidden_state_layer_ids", [])
    },
  ]

  static let tensorTrips: [Trip] = [
    .config("norm.weight dropped", .tensorsMissing, ["'norm.weight'", "[64]", "absent"]) {
      $0.remove("norm.weight")
    },
    .config("renamed tensor (missing side)", .tensorsMissing, ["'layers.0.hidden_norm.weight'", "absent"]) {
      $0.rename("layers.0.hidden_norm.weight", to: "layers.0.hiden_norm.weight")
    },
    .config(
      "renamed tensor (unexpected side)", .tensorsUnexpected,
      ["'layers.0.hiden_norm.weight'", "expected absent", "F32 [64]"]
    ) {
      $0.rename("layers.0.hidden_norm.weight", to: "layers.0.hiden_norm.weight")
    },
    .config(
      "midlayer names left in a conversion", .tensorsUnexpected,
      ["'midlayer.hidden_norm.weight'", "rename midlayer."]
    ) {
      $0.rename("layers.0.hidden_norm.weight", to: "midlayer.hidden_norm.weight")
    },
    .config(
      "embed_tokens in an eagle conversion", .tensorsUnexpected,
      ["'embed_tokens.weight'", "from the verifier"], base: { DraftFixtures.eagle() }
    ) {
      $0.add(DraftFixtures.weight("embed_tokens.weight", [DraftFixtures.vocab, h]))
    },
    .config("wrong fc width", .tensorsShape, ["'fc.weight'", "[64, 192]", "[64, 128]"]) {
      $0.reshape("fc.weight", [h, 2 * h])
    },
    .config(
      "layer-0 q_proj takes H instead of 2H", .tensorsShape,
      ["'layers.0.self_attn.q_proj.weight'", "[64, 128]", "[64, 64]"]
    ) {
      $0.reshape("layers.0.self_attn.q_proj.weight", [h, h])
    },
    .config("lm_head rows = target vocab", .tensorsShape, ["'lm_head.weight'", "[128, 64]", "[512, 64]"]) {
      $0.reshape("lm_head.weight", [DraftFixtures.vocab, h])
    },
    .config("integer weight", .tensorsDType, ["'lm_head.weight'", "floating point", "I32"]) {
      $0.setDType("lm_head.weight", .I32)
    },
    .config(
      "dropped layers.1.*", .layersCount, ["num_hidden_layers = 2", "[0, 1]", "found [0]", "layers.1.*"],
      base: { DraftFixtures.eagle3(layers: 2) }
    ) {
      $0.removeAll(prefix: "layers.1.")
    },
    .config(
      "extra layers.1.* with num_hidden_layers 1", .layersCount,
      ["num_hidden_layers = 1", "[0, 1]", "never loaded"], base: { DraftFixtures.eagle3(layers: 2) }
    ) {
      $0.setConfig("transformer_layer_config.num_hidden_layers", 1)
    },
    .config(
      "fusion_bias true without bias", .flagsFusionBias,
      ["fusion_bias is true", "'fusion_fc.bias'", "present", "absent"],
      base: { DraftFixtures.eagle(fusionBias: true) }
    ) {
      $0.remove("fusion_fc.bias")
    },
    .config(
      "fusion_fc.bias with fusion_bias false", .flagsFusionBias,
      ["fusion_bias is false", "'fusion_fc.bias'", "absent, found present"],
      base: { DraftFixtures.eagle(fusionBias: true) }
    ) {
      $0.setConfig("fusion_bias", false)
    },
    .config(
      "layernorms true without norms", .flagsLayernorms,
      ["layernorms is true", "'embedding_layernorm.weight'", "absent"], base: { DraftFixtures.eagle() }
    ) {
      $0.setConfig("layernorms", true)
    },
    .config(
      "norm_before_fc true without input_norm", .flagsNormBeforeFC,
      ["norm_before_fc is true", "'input_norm.weight'", "absent"]
    ) {
      $0.setConfig("norm_before_fc", true)
    },
    .config(
      "fc_norm true without fc_norm.*", .flagsFCNorm, ["fc_norm is true", "'fc_norm.0.weight'", "absent"]
    ) {
      $0.setConfig("fc_norm", true)
    },
    .config(
      "q_norm/k_norm under a llama layer config", .flagsQKNorm,
      ["not qwen3", "'layers.0.self_attn.k_norm.weight'", "KeyError"],
      base: { DraftFixtures.eagle3(qwen3: true) }
    ) {
      $0.setConfig("transformer_layer_config.model_type", "llama")
    },
    .config(
      "attention_bias true without biases", .flagsAttentionBias,
      ["attention_bias is true", "'layers.0.self_attn.q_proj.bias'", "absent"]
    ) {
      $0.setConfig("transformer_layer_config.attention_bias", true)
    },
    .config(
      "mlp biases with mlp_bias false", .flagsMLPBias,
      ["mlp_bias is false", "'layers.0.mlp.up_proj.bias'", "found present"]
    ) {
      $0.add(DraftFixtures.weight("layers.0.mlp.up_proj.bias", [DraftFixtures.intermediate]))
    },
    .config(
      "one BF16 tensor among F32", .dtypeConsistency, .warning, ["'norm.weight'", "one dtype", "BF16 ×1"]
    ) {
      $0.setDType("norm.weight", .BF16)
    },
    .config("torch_dtype disagrees", .dtypeConsistency, .warning, ["torch_dtype", "'float32'", "'bfloat16'"])
    {
      $0.setConfig("torch_dtype", "bfloat16")
    },
  ]

  static let vocabTrips: [Trip] = [
    .config("draft vocab larger than target", .vocabDraftSize, ["draft_vocab_size", "512", "1024"]) {
      $0.setConfig("draft_vocab_size", 1024)
    },
    .config("t2d missing", .vocabMapsPresence, .warning, ["'t2d'", "alongside d2t", "absent"]) {
      $0.remove("t2d")
    },
    .config("d2t missing", .vocabMapsPresence, ["'d2t'", "alongside t2d", "absent"]) { $0.remove("d2t") },
    .config(
      "both maps missing with a reduced vocab", .vocabMapsPresence,
      ["'d2t'/'t2d'", "128 < transformer_layer_config.vocab_size 512", "neither"]
    ) {
      $0.remove("t2d")
      $0.remove("d2t")
    },
    .config("d2t stored as I32 (vLLM widens it)", .vocabD2TDTypeShape, .warning, ["'d2t'", "I64 [128]", "I32 [128]", "widens"]) {
      $0.setDType("d2t", .I32)
    },
    .config("t2d shorter than the target vocab", .vocabT2DDTypeShape, ["'t2d'", "BOOL [512]", "BOOL [256]"]) {
      $0.setValues("t2d", .bools((0..<256).map { $0 % 4 == 0 && $0 < 512 }))
      var t2d = $0.tensor("t2d")!
      t2d.shape = [256]
      $0.remove("t2d")
      $0.add(t2d)
    },
    .config(
      "vocab_size set to the draft vocab", .vocabDraftEqualsTarget,
      [
        "transformer_layer_config.vocab_size", "target vocabulary", "128 = draft_vocab_size",
        "t2d covers 512",
      ]
    ) {
      $0.setConfig("transformer_layer_config.vocab_size", 128)
    },
  ]

  static let contentTrips: [Trip] = [
    Trip(
      name: "t2d popcount off by one", id: .vocabT2DPopcount, severity: .error,
      mentions: ["'t2d'", "128 true", "found 129"],
      mutate: { spec in
        var values = (0..<512).map { $0 % 4 == 0 }
        values[1] = true
        spec.setValues("t2d", .bools(values))
      }, content: true),
    Trip(
      name: "d2t pointing past the vocab", id: .vocabD2TRange, severity: .error,
      mentions: ["'d2t'", "0 <= i + d2t[i] < 512", "d2t[127] = 1000", "1127"],
      mutate: { spec in
        var values = (0..<128).map { Int64($0 * 3) }
        values[127] = 1000
        spec.setValues("d2t", .ints(values))
      }, content: true),
    Trip(
      name: "t2d marks a different id", id: .vocabT2DAgrees, severity: .error,
      mentions: ["'t2d'", "i + d2t[i]", "false in t2d (first 4)", "no draft id maps to (first 1)"],
      mutate: { spec in
        var values = (0..<512).map { $0 % 4 == 0 }
        values[4] = false
        values[1] = true
        spec.setValues("t2d", .bools(values))
      }, content: true),
    Trip(
      name: "non-identity d2t with a full draft vocab", id: .vocabIdentityMap, severity: .warning,
      mentions: ["'d2t'", "all zeros", "d2t[0] = 1"],
      mutate: { spec in
        spec.setConfig("draft_vocab_size", 512)
        spec.reshape("lm_head.weight", [512, DraftFixtures.hidden])
        var d2t = [Int64](repeating: 0, count: 512)
        d2t[0] = 1
        d2t[1] = -1
        spec.remove("d2t")
        spec.add(TensorSpec(name: "d2t", dtype: .I64, shape: [512], values: .ints(d2t)))
        spec.setValues("t2d", .bools([Bool](repeating: true, count: 512)))
      }, content: true),
    Trip(
      name: "NaN in a weight", id: .contentNaNInf, severity: .error,
      mentions: ["'fc.weight'", "finite", "1 NaN", "index 7"],
      mutate: { spec in
        guard case .floats(var values) = spec.tensor("fc.weight")!.values else { return }
        values[7] = .nan
        spec.setValues("fc.weight", .floats(values))
      }, content: true),
    Trip(
      name: "Inf in a bf16 weight", id: .contentNaNInf, severity: .error,
      mentions: ["'norm.weight'", "1 Inf"],
      mutate: { spec in
        spec.setDType("norm.weight", .BF16)
        spec.setValues("norm.weight", .floats([Float](repeating: 1.5, count: 63) + [.infinity]))
      }, content: true),
    Trip(
      name: "all-ones norm", id: .contentUninitialised, severity: .warning,
      mentions: ["'layers.0.hidden_norm.weight'", "exactly 1.0", "never loaded"],
      mutate: { $0.setValues("layers.0.hidden_norm.weight", .floats([Float](repeating: 1, count: 64))) },
      content: true),
    Trip(
      name: "all-ones fc_norm (per-aux-state norm)", id: .contentUninitialised, severity: .warning,
      mentions: ["'fc_norm.1.weight'", "exactly 1.0"],
      mutate: { spec in
        spec.setConfig("fc_norm", true)
        for j in 0..<3 { spec.add(DraftFixtures.norm("fc_norm.\(j).weight")) }
        spec.setValues("fc_norm.1.weight", .floats([Float](repeating: 1, count: 64)))
      }, content: true),
    Trip(
      name: "normal(0, 0.02) initialised decoder weight", id: .contentUninitialised, severity: .warning,
      mentions: ["'layers.0.mlp.down_proj.weight'", "normal(0, 0.02)", "never loaded"],
      mutate: { spec in
        var noise = DraftFixtures.Noise("init")
        // Box-Muller normal(0, 0.02).
        let values = (0..<(64 * 128)).map { _ -> Float in
          let u1 = max(noise.next(), 1e-7)
          let u2 = noise.next()
          return 0.02 * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        }
        spec.setValues("layers.0.mlp.down_proj.weight", .floats(values))
      }, content: true),
    Trip(
      name: "nn.Linear default initialised weight", id: .contentUninitialised, severity: .warning,
      mentions: ["'layers.0.mlp.up_proj.weight'", "nn.Linear", "1/√64"],
      mutate: { spec in
        var noise = DraftFixtures.Noise("kaiming")
        let bound: Float = 1 / 8
        spec.setValues(
          "layers.0.mlp.up_proj.weight", .floats((0..<(128 * 64)).map { _ in (2 * noise.next() - 1) * bound })
        )
      }, content: true),
  ]

  /// The DFlash family's checks (vLLM's `update_dflash` and `qwen3_dflash.py` readings).
  static let dflashTrips: [Trip] = [
    .config(
      "dflash without mask_token_id", .configRequiredKeys, ["mask_token_id", "absent", "KeyError"],
      base: { DraftFixtures.dflash() }
    ) { $0.setConfig("mask_token_id", nil) },
    .config(
      "dflash without aux ids", .configRequiredKeys, ["aux_hidden_state_layer_ids", "absent"],
      base: { DraftFixtures.dflash() }
    ) { $0.setConfig("aux_hidden_state_layer_ids", nil) },
    .config(
      "speculative tokens beyond the block", .configBlockSize, .warning,
      ["speculative_tokens", "at most 3", "found 7"], base: { DraftFixtures.dflash() }
    ) {
      $0.setConfig(
        "speculators_config.proposal_methods",
        [["accept_tolerance": 0.0, "proposal_type": "greedy", "speculative_tokens": 7, "verifier_accept_k": 1]])
    },
    .config(
      "sliding_window_non_causal false", .configDFlashCausal, .warning,
      ["sliding_window_non_causal", "every layer causal"], base: { DraftFixtures.dflash() }
    ) { $0.setConfig("sliding_window_non_causal", false) },
    Trip(
      name: "dflash fc wider than its aux ids", id: .verifierFCWidth, severity: .error,
      mentions: ["'fc.weight'", "expected 192", "3 aux hidden states", "found 256"],
      base: { DraftFixtures.dflash() }, mutate: { $0.reshape("fc.weight", [DraftFixtures.hidden, 256]) }),
    Trip(
      name: "dflash aux id at the verifier's layer count", id: .verifierAuxLayerIDs, severity: .error,
      mentions: ["aux_hidden_state_layer_ids", "0...7", "[8]"],
      base: { DraftFixtures.dflash() }, mutate: { $0.setConfig("aux_hidden_state_layer_ids", [1, 2, 8]) }),
    Trip(
      name: "dflash layer without q_norm", id: .flagsQKNorm, severity: .error,
      mentions: ["layers.1.self_attn.q_norm.weight", "qwen3"],
      base: { DraftFixtures.dflash() }, mutate: { $0.remove("layers.1.self_attn.q_norm.weight") }),
  ]

  static let verifierTrips: [Trip] = [
    Trip(
      name: "verifier hidden size differs", id: .verifierHiddenSize, severity: .error,
      mentions: [
        "transformer_layer_config.hidden_size", "expected 96", "target_hidden_size is absent", "found 64",
      ],
      verifier: DraftFixtures.verifierConfig(hidden: 96)),
    Trip(
      name: "verifier vocabulary differs", id: .verifierVocabSize, severity: .error,
      mentions: ["transformer_layer_config.vocab_size", "expected 1024", "found 512"],
      verifier: DraftFixtures.verifierConfig(vocab: 1024)),
    Trip(
      name: "vocab_size set to the draft vocab, caught against the verifier", id: .vocabDraftEqualsTarget,
      severity: .error, mentions: ["transformer_layer_config.vocab_size", "vocab_size 512"],
      mutate: { spec in
        spec.setConfig("transformer_layer_config.vocab_size", 128)
        spec.remove("t2d")
        spec.remove("d2t")
        spec.remove("embed_tokens.weight")
      }),
    Trip(
      name: "wrong fc width against the verifier", id: .verifierFCWidth, severity: .error,
      mentions: ["'fc.weight'", "expected 192", "3 aux hidden states", "found 128"],
      mutate: { $0.reshape("fc.weight", [DraftFixtures.hidden, 128]) }),
    Trip(
      name: "aux layer id beyond the verifier", id: .verifierAuxLayerIDs, severity: .error,
      mentions: ["eagle_aux_hidden_state_layer_ids", "0...8", "[1, 2, 9]", "out of range: [9]"],
      mutate: { $0.setConfig("eagle_aux_hidden_state_layer_ids", [1, 2, 9]) }),
    Trip(
      name: "no aux ids: vLLM's default taps repeat a layer of a 6-layer verifier", id: .verifierDefaultTaps,
      severity: .error,
      mentions: ["eagle_aux_hidden_state_layer_ids", "default taps [2, 3, 3]", "6-layer", "repeat"],
      verifier: DraftFixtures.verifierConfig(layers: 6)),
    Trip(
      name: "no aux ids: vLLM's default taps fall outside a 2-layer verifier", id: .verifierDefaultTaps,
      severity: .error, mentions: ["default taps [2, 1, -1]", "fall outside"],
      verifier: DraftFixtures.verifierConfig(layers: 2)),
    Trip(
      name: "embed_tokens rows differ from the verifier vocab", id: .verifierEmbeddingsShape,
      severity: .error,
      mentions: ["'embed_tokens.weight'", "[512, 64]", "[500, 64]"],
      mutate: { $0.reshape("embed_tokens.weight", [500, DraftFixtures.hidden]) }),
    Trip(
      name: "no embedding while the draft hidden size differs", id: .verifierEmbeddingsShape,
      severity: .error,
      mentions: ["'embed_tokens.weight'", "draft hidden size 64", "verifier's 96", "found absent"],
      mutate: { spec in
        spec.remove("embed_tokens.weight")
        spec.setConfig("target_hidden_size", 96)
        spec.reshape("fc.weight", [DraftFixtures.hidden, 3 * 96])
      },
      verifier: DraftFixtures.verifierConfig(hidden: 96)),
    Trip(
      name: "verifier architectures differ", id: .verifierArchitectures, severity: .warning,
      mentions: [
        "speculators_config.verifier.architectures", "[\"Qwen3ForCausalLM\"]", "[\"LlamaForCausalLM\"]",
      ],
      verifier: DraftFixtures.verifierConfig(architecture: "Qwen3ForCausalLM")),
    Trip(
      name: "raw EAGLE-3 draft with a wrong fc width", id: .verifierFCWidth, severity: .error,
      mentions: ["'fc.weight'", "expected 192", "found 256"], base: { DraftFixtures.rawEagle3() },
      mutate: { $0.reshape("fc.weight", [DraftFixtures.hidden, 256]) }),
    Trip(
      name: "raw EAGLE-1 draft against a wider verifier", id: .verifierHiddenSize, severity: .error,
      mentions: ["hidden_size", "expected 96", "found 64"], base: { DraftFixtures.rawEagle1() },
      verifier: DraftFixtures.verifierConfig(hidden: 96)),
    Trip(
      name: "raw EAGLE-1 draft, fc width against the verifier", id: .verifierFCWidth, severity: .error,
      mentions: ["'fc.weight'", "expected 192", "2 × 96", "found 128"], base: { DraftFixtures.rawEagle1() },
      verifier: DraftFixtures.verifierConfig(hidden: 96)),
  ]

  /// Tensors per shard when the eagle3 fixture is written as two shards.
  static let half = (DraftFixtures.eagle3().tensors.count + 1) / 2

  static let shardTrips: [Trip] = [
    Trip(
      name: "index maps a tensor to the wrong shard", id: .shardsIndex, severity: .error,
      mentions: [
        "model.safetensors.index.json", "'d2t'", "'model-00002-of-00002.safetensors'",
        "'model-00001-of-00002.safetensors'",
      ],
      shards: 2,
      index: [
        "metadata": ["total_size": 1],
        "weight_map": .object(
          DraftFixtures.eagle3().tensors.enumerated().map { offset, tensor in
            (
              key: tensor.name,
              value: .string(
                offset < half && tensor.name != "d2t"
                  ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")
            )
          }),
      ]),
    Trip(
      name: "index omits a tensor", id: .shardsIndex, severity: .error,
      mentions: ["'norm.weight'", "weight_map", "never load"], shards: 2,
      index: [
        "weight_map": .object(
          DraftFixtures.eagle3().tensors.enumerated().compactMap { offset, tensor in
            tensor.name == "norm.weight"
              ? nil
              : (
                key: tensor.name,
                value: .string(
                  offset < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")
              )
          })
      ]),
  ]

  @Test(
    arguments: configTrips + tensorTrips + vocabTrips + contentTrips + verifierTrips + shardTrips + dflashTrips)
  func tripsItsCheck(_ trip: Trip) throws {
    let (report, findings) = try runTrip(trip)
    let summary = report.findings.map { "\($0.check) [\($0.severity)]: \($0.message)" }.joined(
      separator: "\n")
    let finding = try #require(findings.first { $0.severity == trip.severity }, "findings:\n\(summary)")
    for mention in trip.mentions {
      #expect(finding.message.contains(mention), "'\(mention)' not in: \(finding.message)")
    }
    #expect(finding.expected != nil && finding.found != nil)
    #expect(finding.tensor != nil || finding.key != nil || finding.file != nil)
    #expect(report.hasErrors == report.findings.contains { $0.severity == .error })
  }

  @Test func verifierPathThatDoesNotExistIsAWarning() throws {
    let trip = Trip(
      name: "missing local verifier", id: .configVerifierPath, severity: .warning,
      mentions: ["./no-such-verifier", "does not exist"],
      mutate: { $0.setConfig("speculators_config.verifier.name_or_path", "./no-such-verifier") },
      verifier: nil)
    let (report, findings) = try runTrip(trip)
    let finding = try #require(findings.first)
    #expect(finding.severity == .warning)
    #expect(finding.key == "speculators_config.verifier.name_or_path")
    #expect(finding.message.contains("'./no-such-verifier'"))
    #expect(
      report.skipped.contains { $0.check == .verifierHiddenSize && $0.reason.contains("./no-such-verifier") })
  }

  @Test func findingsNameTheirSubjectField() throws {
    let (_, missing) = try runTrip(.config("x", .tensorsMissing, []) { $0.remove("norm.weight") })
    #expect(missing.first?.tensor == "norm.weight")
    #expect(missing.first?.expected == "[64]")
    #expect(missing.first?.found == "absent")
    let (_, keys) = try runTrip(
      .config("x", .configNormBeforeResidualMissing, []) { $0.setConfig("norm_before_residual", nil) })
    #expect(keys.first?.key == "norm_before_residual")
    #expect(keys.first?.tensor == nil)
  }

  @Test func droppedLayerIsReportedOnceNotPerTensor() throws {
    let (report, findings) = try runTrip(
      .config("x", .layersCount, [], base: { DraftFixtures.eagle3(layers: 2) }) {
        $0.removeAll(prefix: "layers.1.")
      })
    #expect(findings.count == 1)
    #expect(report.findings(.tensorsMissing).isEmpty)
  }

  @Test func contentChecksAreSkippedWithoutContentScan() throws {
    let (report, findings) = try runTrip(
      Trip(
        name: "NaN but no --content", id: .contentNaNInf, severity: .error, mentions: [],
        mutate: { spec in
          guard case .floats(var values) = spec.tensor("fc.weight")!.values else { return }
          values[0] = .nan
          spec.setValues("fc.weight", .floats(values))
        }))
    #expect(findings.isEmpty)
    #expect(report.skipped.contains { $0.check == .contentNaNInf && $0.reason.contains("--content") })
    #expect(!report.checksRun.contains(.contentNaNInf))
  }
}
