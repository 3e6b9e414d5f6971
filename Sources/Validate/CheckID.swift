/// The stable identifier of a `verify` check, such as `vocab.t2d-popcount`.
///
/// Identifiers never change meaning once released; `docs/checks.md` documents each one
/// (see ``CheckCatalogue``).
public struct CheckID: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The identifier text.
  public var rawValue: String

  /// Wraps an identifier.
  public init(rawValue: String) {
    self.rawValue = rawValue
  }

  init(_ rawValue: String) {
    self.rawValue = rawValue
  }

  /// The identifier text.
  public var description: String { rawValue }

  public static func < (lhs: CheckID, rhs: CheckID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension CheckID {
  // Config (header only).
  /// `config.json` exists and is a JSON object.
  package static let configPresent = CheckID("config.present")
  /// Keys vLLM and speculators require are present and not null.
  package static let configRequiredKeys = CheckID("config.required-keys")
  /// Present keys have the types readers expect.
  package static let configKeyTypes = CheckID("config.key-types")
  /// Sizes and counts the geometry is computed from are integers inside their bounds
  /// (``ConfigBounds``), in the draft's config and the verifier's.
  package static let configValueBounds = CheckID("config.value-bounds")
  /// The attention heads split the hidden size (without `head_dim`) and the key/value heads
  /// split the attention heads.
  package static let configAttentionHeads = CheckID("config.attention-heads")
  /// No top-level `model_type` (it stops vLLM from routing to the speculators path).
  package static let configTopLevelModelType = CheckID("config.top-level-model-type")
  /// `speculators_model_type` is a known type.
  package static let configModelType = CheckID("config.model-type")
  /// `speculators_model_type` equals `speculators_config.algorithm`.
  package static let configModelTypeAlgorithm = CheckID("config.model-type-algorithm")
  /// vLLM serves the speculators type.
  package static let configVLLMSupport = CheckID("config.vllm-support")
  /// vLLM serves the type, but only on its V2 (GPU) model runner: its CPU build refuses it.
  package static let configVLLMRunner = CheckID("config.vllm-runner")
  /// `transformer_layer_config.model_type` is present.
  package static let configLayerModelType = CheckID("config.layer-model-type")
  /// `default_proposal_method` names one of the proposal types.
  package static let configDefaultProposal = CheckID("config.default-proposal")
  /// `norm_before_residual` is written explicitly (vLLM defaults it to true).
  package static let configNormBeforeResidualMissing = CheckID("config.norm-before-residual-missing")
  /// `norm_before_fc` and `fc_norm` are not both true.
  package static let configFlagExclusive = CheckID("config.flag-exclusive")
  /// `eagle_aux_hidden_state_layer_ids` is a non-empty list of distinct, ascending ids.
  package static let configAuxLayerIDs = CheckID("config.aux-layer-ids")
  /// A path-like `verifier.name_or_path` exists.
  package static let configVerifierPath = CheckID("config.verifier-path")
  /// DFlash: `speculative_tokens` fits the trained `block_size`.
  package static let configBlockSize = CheckID("config.block-size")
  /// DFlash: `sliding_window_non_causal` does not make vLLM run non-causal layers causal.
  package static let configDFlashCausal = CheckID("config.dflash-causal")
  /// A causal LM's config promises no more MTP layers than its tensors hold.
  package static let mtpLayersPresent = CheckID("mtp.layers-present")

  // Tensors (header only).
  /// Every required tensor is present.
  package static let tensorsMissing = CheckID("tensors.missing")
  /// No tensor the model class does not have.
  package static let tensorsUnexpected = CheckID("tensors.unexpected")
  /// Shapes are the functions of the config that the model class builds.
  package static let tensorsShape = CheckID("tensors.shape")
  /// Weights have floating-point dtypes.
  package static let tensorsDType = CheckID("tensors.dtype")
  /// The decoder layers present are exactly `0..<num_hidden_layers`.
  package static let layersCount = CheckID("layers.count")
  /// `fusion_bias` agrees with `fusion_fc.bias`.
  package static let flagsFusionBias = CheckID("flags.fusion-bias")
  /// `layernorms` agrees with the three extra norms.
  package static let flagsLayernorms = CheckID("flags.layernorms")
  /// `norm_before_fc` agrees with `input_norm.weight`.
  package static let flagsNormBeforeFC = CheckID("flags.norm-before-fc")
  /// `fc_norm` agrees with `fc_norm.{j}.weight`.
  package static let flagsFCNorm = CheckID("flags.fc-norm")
  /// `q_norm`/`k_norm` present exactly for Qwen3 layers.
  package static let flagsQKNorm = CheckID("flags.qk-norm")
  /// `attention_bias` agrees with q/k/v/o biases.
  package static let flagsAttentionBias = CheckID("flags.attention-bias")
  /// `mlp_bias` agrees with gate/up/down biases.
  package static let flagsMLPBias = CheckID("flags.mlp-bias")
  /// Float weights share one dtype, the one the config declares.
  package static let dtypeConsistency = CheckID("dtype.consistency")
  /// A sharded index maps exactly the tensors its shards hold.
  package static let shardsIndex = CheckID("shards.index")

  // Vocabulary maps.
  /// `draft_vocab_size <= vocab_size`.
  package static let vocabDraftSize = CheckID("vocab.draft-size")
  /// `d2t`/`t2d` both or neither, and present when the draft vocabulary is reduced.
  package static let vocabMapsPresence = CheckID("vocab.maps-presence")
  /// `d2t` is `I64 [draft_vocab_size]`.
  package static let vocabD2TDTypeShape = CheckID("vocab.d2t-dtype-shape")
  /// `t2d` is `BOOL [vocab_size]`.
  package static let vocabT2DDTypeShape = CheckID("vocab.t2d-dtype-shape")
  /// `vocab_size` is not the draft vocabulary in disguise.
  package static let vocabDraftEqualsTarget = CheckID("vocab.draft-equals-target")
  /// `t2d` has exactly `draft_vocab_size` true entries (content).
  package static let vocabT2DPopcount = CheckID("vocab.t2d-popcount")
  /// `0 <= i + d2t[i] < vocab_size` for every draft id (content).
  package static let vocabD2TRange = CheckID("vocab.d2t-range")
  /// `t2d` marks exactly the target ids `d2t` maps to (content).
  package static let vocabT2DAgrees = CheckID("vocab.t2d-agrees")
  /// With a full-size draft vocabulary, `d2t` is the identity (content).
  package static let vocabIdentityMap = CheckID("vocab.identity-map")

  // Verifier compatibility.
  /// The fc input is made of the verifier's hidden size.
  package static let verifierHiddenSize = CheckID("verifier.hidden-size")
  /// `vocab_size` is the verifier's vocabulary.
  package static let verifierVocabSize = CheckID("verifier.vocab-size")
  /// `fc` input width is 2·Hv (eagle) or A·Hv (eagle3).
  package static let verifierFCWidth = CheckID("verifier.fc-width")
  /// Aux layer ids lie below the verifier's layer count.
  package static let verifierAuxLayerIDs = CheckID("verifier.aux-layer-ids")
  /// Without aux ids, vLLM's default taps are distinct layers of the verifier.
  package static let verifierDefaultTaps = CheckID("verifier.default-taps")
  /// The draft's embedding (or the one it borrows) fits the verifier.
  package static let verifierEmbeddingsShape = CheckID("verifier.embeddings-shape")
  /// `speculators_config.verifier.architectures` matches the verifier.
  package static let verifierArchitectures = CheckID("verifier.architectures")
  /// A draft's own `embed_tokens` equals the verifier's (content).
  package static let verifierEmbeddingsMatch = CheckID("verifier.embeddings-match")

  // Probe (`--probe`): the draft decoded against its verifier.
  /// The verifier accepts the draft's tokens (acceptance is not near zero).
  package static let probeAcceptance = CheckID("probe.acceptance")
  /// No other reading of the draft (a flag, aux layers, the embedding) restores acceptance.
  package static let probeMisreading = CheckID("probe.misreading")

  // Content.
  /// No NaN or infinity in any float tensor.
  package static let contentNaNInf = CheckID("content.nan-inf")
  /// No tensor that looks freshly initialised (never loaded).
  package static let contentUninitialised = CheckID("content.uninitialised")

  // Manifest.
  /// Every file the manifest lists exists.
  package static let manifestMissingFile = CheckID("manifest.missing-file")
  /// Every file's size and SHA-256 match the manifest.
  package static let manifestFileDigest = CheckID("manifest.file-digest")
  /// Every checkpoint file is listed in the manifest.
  package static let manifestUnlistedFile = CheckID("manifest.unlisted-file")
  /// Every tensor's XXH3-128 matches the manifest.
  package static let manifestTensorDigest = CheckID("manifest.tensor-digest")
  /// Every tensor the manifest lists exists.
  package static let manifestMissingTensor = CheckID("manifest.missing-tensor")
  /// Every tensor is listed in the manifest.
  package static let manifestUnlistedTensor = CheckID("manifest.unlisted-tensor")
  /// Every tensor's dtype, shape and file match the manifest.
  package static let manifestTensorDescriptor = CheckID("manifest.tensor-descriptor")
}
