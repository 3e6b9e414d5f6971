import Inspect

/// The documented list of every `verify` check: what it catches and the real-world failure it
/// corresponds to. `docs/checks.md` is rendered from it (``markdownTable()``), and a test keeps
/// the two in step.
public enum CheckCatalogue {
  /// What a check needs in order to run, as `docs/checks.md` and `--list-checks` show it.
  public enum Input: String, Sendable, Hashable {
    /// config.json and tensor headers only (always runs).
    case header
    /// Tensor bytes (`--content`).
    case content
    /// A resolved verifier config (`--verifier` or a local `verifier.name_or_path`).
    case verifier
    /// Verifier config and tensor bytes of both checkpoints (`--verifier` and `--content`).
    case verifierContent = "verifier+content"
    /// The audit manifest (`--manifest`).
    case manifest
    /// The verifier's weights, decoded against (`--probe`).
    case probe
  }

  /// What a check reads beyond config.json and tensor headers. A check whose need is not met
  /// is skipped with the run's reason for that need (the first unmet need, in the order the
  /// check lists them); `Verifier` derives the skips from these declarations.
  public enum Need: String, Sendable, Hashable {
    /// The draft's config values (the checks that compute with its numbers; the presence and
    /// key checks report a missing config themselves).
    case config
    /// The tensor table of a known layout (a recognised draft and its config).
    case tensorTable = "tensor-table"
    /// A resolved verifier config (`--verifier` or a local `verifier.name_or_path`).
    case verifier
    /// Tensor bytes (`--content`).
    case content
    /// The audit manifest (`--manifest`).
    case manifest
    /// A greedy decode against the verifier's weights (`--probe`).
    case probe
  }

  /// What kind of checkpoint is being verified: a check declares the kinds it applies to, and
  /// is "not applicable" (neither passed nor skipped) to the others.
  public enum DraftKind: Sendable, Hashable, CaseIterable {
    /// A Speculators-format draft (`speculators_model_type`, typed or not).
    case speculators
    /// An original EAGLE-1 checkpoint, which vLLM serves as is with method `eagle`.
    case servedSource
    /// Any other original (pre-conversion) draft layout.
    case source
    /// A causal LM carrying MTP layers.
    case mtpVerifier
  }

  /// One catalogue entry.
  public struct Entry: Sendable, Hashable {
    /// The stable identifier.
    public var id: CheckID
    /// The severity of its findings (`error`, `warning`, or `error/warning` when it depends).
    public var severity: String
    /// What the check needs beyond headers, in the order its skip reasons take precedence.
    public var needs: [Need]
    /// The kinds of checkpoint the check applies to.
    public var appliesTo: Set<DraftKind>
    /// What it catches.
    public var catches: String
    /// The failure seen in practice that it turns into an explicit finding.
    public var failure: String

    init(
      id: CheckID, severity: String, needs: [Need], appliesTo: Set<DraftKind> = Set(DraftKind.allCases),
      catches: String, failure: String
    ) {
      self.id = id
      self.severity = severity
      self.needs = needs
      self.appliesTo = appliesTo
      self.catches = catches
      self.failure = failure
    }

    /// What the check needs, as the catalogue documents it (derived from ``needs``).
    public var input: Input {
      if needs.contains(.probe) { return .probe }
      if needs.contains(.manifest) { return .manifest }
      if needs.contains(.verifier) { return needs.contains(.content) ? .verifierContent : .verifier }
      if needs.contains(.content) { return .content }
      return .header
    }
  }

  /// The checks whose errors say that vLLM will not serve a checkpoint (refused type, default
  /// taps it cannot use) rather than that the checkpoint is malformed. `convert --validate-device`
  /// reports them without failing the conversion; `verify` exits 1 on them like on any error.
  package static let servingChecks: Set<CheckID> = [.configVLLMSupport, .configVLLMRunner, .verifierDefaultTaps]

  /// Every check, in report order.
  public static let entries: [Entry] = [
    Entry(
      id: .configPresent, severity: "error", needs: [],
      catches: "config.json is absent or not a JSON object.",
      failure: "vLLM and speculators cannot load a checkpoint without its config."),
    Entry(
      id: .configRequiredKeys, severity: "error", needs: [], appliesTo: [.speculators],
      catches: "A key vLLM or speculators requires is missing or null: speculators_model_type, "
        + "speculators_config (algorithm, proposal_methods[0].proposal_type and speculative_tokens, "
        + "default_proposal_method, verifier.name_or_path, verifier.architectures), "
        + "transformer_layer_config and its geometry, draft_vocab_size (eagle3).",
      failure: "vLLM #21345 `validate_speculators_config` raises on load; speculators raises "
        + "ValidationError (speculators `src/speculators/config.py`)."),
    Entry(
      id: .configKeyTypes, severity: "error", needs: [], appliesTo: [.speculators],
      catches: "A present key has the wrong JSON type (a flag that is not a boolean, a size that is "
        + "not a positive integer, aux layer ids that are not integers).",
      failure: "pydantic ValidationError in speculators; vLLM reads the wrong value."),
    Entry(
      id: .configValueBounds, severity: "error", needs: [.config],
      catches: "A size (hidden_size, intermediate_size, vocab_size, draft_vocab_size, target_hidden_size, "
        + "head_dim, max_position_embeddings, DFlash's conv_group_size, selector_rank, markov_rank) is "
        + "not an integer from 1 to 2^24, or a count (num_hidden_layers, num_attention_heads, "
        + "num_key_value_heads, block_size, conv_kernel_size) not one from 1 to 2^16, in the draft's "
        + "config (top level, text_config, transformer_layer_config, dflash_config) or the verifier's.",
      failure: "A zero divides by zero, a huge value overflows or allocates without bound in tools "
        + "that compute shapes from it; torch raises on a negative size when the model is built."),
    Entry(
      id: .configAttentionHeads, severity: "error", needs: [.config],
      catches: "num_attention_heads does not divide hidden_size while head_dim is absent, or "
        + "num_key_value_heads does not divide num_attention_heads (the draft's layer config).",
      failure: "transformers and vLLM derive head_dim = hidden_size / num_attention_heads and group "
        + "the query heads over the key/value heads: the layers are built with other shapes, or "
        + "refuse to build."),
    Entry(
      id: .configTopLevelModelType, severity: "error", needs: [], appliesTo: [.speculators],
      catches: "config.json has a top-level model_type.",
      failure: "vLLM only routes configs without model_type to the speculators path; the draft is "
        + "served as a plain model or not at all (vLLM #25250)."),
    Entry(
      id: .configModelType, severity: "error/warning", needs: [], appliesTo: [.speculators],
      catches: "speculators_model_type is unknown (error) or a non-EAGLE type this tool has no tensor "
        + "table for (warning; tensor checks skipped).",
      failure: "speculators ValidationError on unknown tags."),
    Entry(
      id: .configModelTypeAlgorithm, severity: "error", needs: [], appliesTo: [.speculators],
      catches: "speculators_model_type differs from speculators_config.algorithm.",
      failure: "vLLM picks the method from speculators_model_type while tools reading algorithm "
        + "disagree."),
    Entry(
      id: .configVLLMSupport, severity: "error", needs: [], appliesTo: [.speculators, .servedSource],
      catches: "speculators_model_type is one vLLM's speculators reader refuses: eagle (EAGLE-1 and "
        + "HASS conversions), mtp, independent, mlp. vLLM \(VLLMServing.measuredVersion) serves only "
        + VLLMServing.servedSpeculatorsTypes.joined(separator: ", ") + ".",
      failure: "`vllm serve` fails at config validation (\"Expected one of: ...\"); EAGLE-1 support in "
        + "that path (vLLM #20436) was never merged (docs/vllm.md)."),
    Entry(
      id: .configVLLMRunner, severity: "warning", needs: [], appliesTo: [.speculators],
      catches: "A type vLLM serves only on its V2 model runner, which needs Triton (a GPU build): "
        + "dspark, and dflash/dflash2 drafts with a candidate head (DFlash2DraftModel, "
        + "LiLiCorrDraftModel) or mixing sliding-window and full attention layers.",
      failure: "vLLM's CPU build runs the V1 model runner and refuses the checkpoint at config "
        + "validation (\"Model Runner V1 does not support: ...\"; docs/vllm.md)."),
    Entry(
      id: .configLayerModelType, severity: "error/warning", needs: [], appliesTo: [.speculators],
      catches: "transformer_layer_config.model_type is absent: an error for eagle (speculators "
        + "raises TypeError), a warning for eagle3 (readers disagree on the default).",
      failure: "speculators HEAD reads a missing model_type as Qwen3Config while vLLM builds Llama "
        + "layers (speculators `src/speculators/models/eagle3.py`)."),
    Entry(
      id: .configDefaultProposal, severity: "warning", needs: [], appliesTo: [.speculators],
      catches: "default_proposal_method is not one of the proposal_methods' proposal_type values.",
      failure: "speculators v0.7+ rejects the config with ValidationError."),
    Entry(
      id: .configNormBeforeResidualMissing, severity: "error", needs: [], appliesTo: [.speculators],
      catches: "An eagle3 config without norm_before_residual.",
      failure: "vLLM defaults it to true while speculators and SafeAILab EAGLE-3 use false: the draft "
        + "loads and is silently served with the wrong residual (speculators #52, #57)."),
    Entry(
      id: .configFlagExclusive, severity: "error", needs: [], appliesTo: [.speculators],
      catches: "norm_before_fc and fc_norm both true.",
      failure: "speculators' validator rejects the combination; vLLM would apply both norms."),
    Entry(
      id: .configAuxLayerIDs, severity: "error/warning", needs: [], appliesTo: [.speculators],
      catches: "eagle_aux_hidden_state_layer_ids has duplicates (error: vLLM collects each layer once "
        + "and fails at the first decode step), is an empty list, or is not ascending (warnings).",
      failure: "vLLM ignores an empty list and guesses (2, L/2, L-3) (vLLM #50170: acceptance 1.2%); "
        + "ModelOpt writes list(set(ids)) in arbitrary order while fc columns follow ascending taps."),
    Entry(
      id: .configVerifierPath, severity: "warning", needs: [], appliesTo: [.speculators],
      catches: "verifier.name_or_path is an absolute or ./ path that does not exist here.",
      failure: "`vllm serve <draft>` uses name_or_path as the target; a path written at conversion "
        + "time breaks when the checkpoint is moved."),
    Entry(
      id: .configBlockSize, severity: "warning", needs: [], appliesTo: [.speculators],
      catches: "dflash/dflash2/dspark: speculative_tokens exceeds block_size − 1 (block_size with "
        + "sample_from_anchor), the mask positions the draft was trained to fill.",
      failure: "vLLM asks the draft for speculative_tokens mask positions whatever block_size says; the "
        + "extra positions were never trained and are rejected."),
    Entry(
      id: .configDFlashCausal, severity: "warning", needs: [], appliesTo: [.speculators],
      catches: "dflash/dflash2/dspark: sliding_window_non_causal is false (and transformer_layer_config "
        + "has no is_causal), which vLLM turns into causal attention in every draft layer.",
      failure: "vLLM sets dflash_config.causal = not sliding_window_non_causal for all layers "
        + "(qwen3_dflash.py); speculators 0.9.0 writes false for every conversion, so z-lab drafts "
        + "trained with non-causal block attention lose acceptance (vLLM PR #56692)."),
    Entry(
      id: .tensorsMissing, severity: "error", needs: [.tensorTable],
      catches: "A tensor the model class requires is absent (per the layout's expected tensors).",
      failure: "Missing weights keep their random initialisation and load silently: 0% acceptance "
        + "(speculators #358-#360, #1114; vLLM's eagle3 loader does not report unloaded weights)."),
    Entry(
      id: .tensorsUnexpected, severity: "error", needs: [.tensorTable],
      catches: "A tensor the model class does not have (including a renamed tensor).",
      failure: "vLLM raises KeyError on names that match no parameter (vLLM #43132); speculators' "
        + "strict=False load silently drops it (speculators #1114)."),
    Entry(
      id: .tensorsShape, severity: "error", needs: [.tensorTable],
      catches: "A tensor whose shape is not the function of the config the model builds (fc width, "
        + "layer-0 q/k/v input 2H vs H for later layers, lm_head rows = draft_vocab_size, ...).",
      failure: "Shape errors at load (vLLM #17957, #19174) or, worse, a config that describes "
        + "different weights (DeepSpec #44)."),
    Entry(
      id: .tensorsDType, severity: "error", needs: [.tensorTable],
      catches: "A weight stored with an integer or bool dtype.",
      failure: "Quantised or corrupted exports that vLLM loads as garbage."),
    Entry(
      id: .layersCount, severity: "error", needs: [.tensorTable],
      catches: "The decoder layers present differ from 0..<num_hidden_layers (dropped layers.1.*, "
        + "extra layers, gaps).",
      failure: "The legacy eagle3 converter kept one layer and dropped layers.1.* of multi-layer "
        + "drafts (speculators PR #812); the missing layer runs with random weights."),
    Entry(
      id: .flagsFusionBias, severity: "error", needs: [.tensorTable],
      catches: "fusion_bias disagrees with the presence of fusion_fc.bias.",
      failure: "A missing fc bias flag gave ~0.07 acceptance (vLLM #11126)."),
    Entry(
      id: .flagsLayernorms, severity: "error", needs: [.tensorTable],
      catches: "layernorms disagrees with embedding_layernorm / pre_lm_head_layernorm / "
        + "transformer.input_layernorm.",
      failure: "HASS norms dropped or left at their initial value."),
    Entry(
      id: .flagsNormBeforeFC, severity: "error", needs: [.tensorTable],
      catches: "norm_before_fc disagrees with input_norm.weight.",
      failure: "The norm is built but never loaded, or silently skipped (vLLM #38111)."),
    Entry(
      id: .flagsFCNorm, severity: "error", needs: [.tensorTable],
      catches: "fc_norm disagrees with fc_norm.{j}.weight.",
      failure: "Eagle 3.1 norms dropped by a converter while the config enables them "
        + "(speculators `src/speculators/models/eagle3.py`)."),
    Entry(
      id: .flagsQKNorm, severity: "error", needs: [.tensorTable],
      catches: "q_norm/k_norm tensors present without transformer_layer_config.model_type qwen3, or "
        + "absent with it.",
      failure: "Qwen3 drafts routed to the Llama class fail with KeyError "
        + "'layers.0.self_attn.k_norm.weight' (vLLM #43132, #44322)."),
    Entry(
      id: .flagsAttentionBias, severity: "error", needs: [.tensorTable],
      catches: "attention_bias disagrees with q/k/v/o bias tensors.",
      failure: "Biases ignored or left uninitialised by the loader."),
    Entry(
      id: .flagsMLPBias, severity: "error", needs: [.tensorTable],
      catches: "mlp_bias disagrees with gate/up/down bias tensors.",
      failure: "Biases ignored or left uninitialised by the loader."),
    Entry(
      id: .dtypeConsistency, severity: "warning", needs: [],
      catches: "Float weights with mixed dtypes, or a dtype other than the config's torch_dtype/dtype.",
      failure: "Every v0.1.0 conversion was float32 whatever the source (speculators PR #136)."),
    Entry(
      id: .shardsIndex, severity: "error/warning", needs: [],
      catches: "A sharded index whose weight_map names tensors or files the shards do not hold, or "
        + "misses tensors they hold (warning: metadata.total_size disagrees).",
      failure: "Loaders follow weight_map; an unlisted tensor is never loaded."),
    Entry(
      id: .mtpLayersPresent, severity: "error", needs: [],
      catches: "A causal LM whose config promises MTP layers (num_nextn_predict_layers, "
        + "mtp_num_hidden_layers) without the tensors: model.layers.{num_hidden_layers+i}.* "
        + "(DeepSeek-V3, GLM), mtp.* (Qwen3-Next, Qwen3.5) or model.mtp_layers.* (MiMo).",
      failure: "Quantized or stripped exports drop the MTP layers; vLLM's method mtp then runs random "
        + "weights, or refuses since vLLM #35548."),
    Entry(
      id: .vocabDraftSize, severity: "error", needs: [.tensorTable],
      catches: "draft_vocab_size larger than vocab_size.",
      failure: "lm_head/vocab size mismatches (SafeAILab/EAGLE #249)."),
    Entry(
      id: .vocabMapsPresence, severity: "error/warning", needs: [.tensorTable],
      catches: "Only one of d2t/t2d, or neither although draft_vocab_size < vocab_size (d2t without "
        + "t2d is a warning: vLLM ignores t2d, speculators refuses it, t2d is derivable).",
      failure: "Without d2t vLLM maps draft id i to target id i: wrong tokens, acceptance collapses "
        + "(NeMo Automodel PR #2447, vLLM #18909, verl-SpeCo PR #66)."),
    Entry(
      id: .vocabD2TDTypeShape, severity: "error/warning", needs: [.tensorTable],
      catches: "d2t is not I64 of shape [draft_vocab_size] (a narrower integer dtype of the right shape is a warning: vLLM widens it).",
      failure: "d2t of the wrong length when training saw fewer tokens (SpecForge PR #76)."),
    Entry(
      id: .vocabT2DDTypeShape, severity: "error", needs: [.tensorTable],
      catches: "t2d is not BOOL of shape [vocab_size].",
      failure: "mblt-model-zoo PR #110 validation rules; HEAD speculators rejects len(t2d) != vocab_size."),
    Entry(
      id: .vocabDraftEqualsTarget, severity: "error", needs: [.tensorTable],
      catches: "vocab_size equals draft_vocab_size while t2d, the embedding or the verifier show a "
        + "larger target vocabulary.",
      failure: "vocab_size must be the verifier's (speculators #188); overwriting it with the draft "
        + "vocab breaks embedding and logits shapes (xLLM PR #1328)."),
    Entry(
      id: .vocabT2DPopcount, severity: "error", needs: [.tensorTable, .content],
      catches: "t2d does not have exactly draft_vocab_size true entries.",
      failure: "An all-true t2d from a run that never loaded its vocab mapping (SpecForge default)."),
    Entry(
      id: .vocabD2TRange, severity: "error", needs: [.tensorTable, .content],
      catches: "Some i + d2t[i] lies outside [0, vocab_size).",
      failure: "Out-of-range target ids index past the verifier's logits (mblt-model-zoo PR #110 review)."),
    Entry(
      id: .vocabT2DAgrees, severity: "error", needs: [.tensorTable, .content],
      catches: "t2d is not exactly the set {i + d2t[i]} (a mapped id is false in t2d, or t2d marks ids "
        + "no draft id maps to).",
      failure: "Mismatched maps from separate side files; the draft proposes tokens the target never "
        + "sees (vllm-ascend PR #15863)."),
    Entry(
      id: .vocabIdentityMap, severity: "warning", needs: [.tensorTable, .content],
      catches: "draft_vocab_size == vocab_size but d2t is not all zeros.",
      failure: "SafeAILab deletes the maps when the vocabularies are equal while vLLM applies them: "
        + "runtimes disagree (SafeAILab/EAGLE #222)."),
    Entry(
      id: .verifierHiddenSize, severity: "error", needs: [.tensorTable, .verifier],
      catches: "The hidden size the fc input is made of (target_hidden_size, else hidden_size) is not "
        + "the verifier's.",
      failure: "Draft/target hidden mismatch shape errors (vLLM #38073)."),
    Entry(
      id: .verifierVocabSize, severity: "error", needs: [.tensorTable, .verifier],
      catches: "vocab_size differs from the verifier's vocab_size (text_config searched).",
      failure: "Logits scattered into a wrong-width tensor: garbage output without an error "
        + "(SafeAILab/EAGLE #258, speculators #188)."),
    Entry(
      id: .verifierFCWidth, severity: "error", needs: [.tensorTable, .verifier],
      catches: "fc input width is not 2·Hv (eagle) or A·Hv (eagle3, A = number of aux layer ids or 3).",
      failure: "Dimension mismatch loading EAGLE-3 weights (vLLM #17957); 4-aux-layer drafts vs "
        + "vLLM's 3 (speculators #1065)."),
    Entry(
      id: .verifierAuxLayerIDs, severity: "error", needs: [.tensorTable, .verifier],
      catches: "An aux layer id is negative or above the verifier's num_hidden_layers L (vLLM taps the "
        + "input of layer i; L is the last layer's output; a raw eagle_config counts outputs, so L - 1).",
      failure: "Taps that do not exist in the verifier; 0- vs 1-based id confusion (llama.cpp PR #18039)."),
    Entry(
      id: .verifierDefaultTaps, severity: "error", needs: [.tensorTable, .verifier],
      catches: "An EAGLE-3 draft names no aux layer ids and vLLM's default taps (2, L/2, L-3) for the "
        + "verifier's L layers repeat a layer or fall outside the verifier (L = 6 gives 2, 3, 3).",
      failure: "vLLM collects each tapped layer once, so fc gets fewer hidden states than it takes and "
        + "the first decode step fails with a shape error (docs/vllm.md)."),
    Entry(
      id: .verifierEmbeddingsShape, severity: "error", needs: [.tensorTable, .verifier],
      catches: "The draft's embed_tokens is not [Vv, H], or the draft has none and H differs from the "
        + "verifier's hidden size (no embedding of the right width can be borrowed).",
      failure: "Embedding sharing fails or uses the wrong table (vLLM #17326, #28549)."),
    Entry(
      id: .verifierArchitectures, severity: "warning", needs: [.tensorTable, .verifier],
      catches: "speculators_config.verifier.architectures differs from the verifier's architectures.",
      failure: "A draft converted against a different verifier than the one it is checked against."),
    Entry(
      id: .verifierEmbeddingsMatch, severity: "warning", needs: [.tensorTable, .verifier, .content],
      catches: "The draft's own embed_tokens differs from the verifier's embedding.",
      failure: "Exporters that saved randomly initialised embeddings (TorchSpec #38); vLLM compares "
        + "and may use the draft's copy."),
    Entry(
      id: .contentNaNInf, severity: "error", needs: [.content],
      catches: "NaN or infinity in any float tensor.",
      failure: "Overflowing casts and un-loaded verifier copies; DFlash conversion checks NaN "
        + "(speculators `src/speculators/convert/`)."),
    Entry(
      id: .contentUninitialised, severity: "warning", needs: [.content],
      catches: "Tensors that look never loaded: norms exactly all ones, all-zero weights, Linear "
        + "weights whose statistics match a fresh normal(0, initializer_range) or nn.Linear init.",
      failure: "The midlayer remap regression saved a randomly initialised decoder: 0% acceptance "
        + "(speculators #358-#360); sglang PR #27908 random head."),
    Entry(
      id: .probeAcceptance, severity: "error", needs: [.probe, .verifier],
      catches: "Greedy speculative decoding on the CPU, as vLLM runs it, accepts almost none of the "
        + "draft's tokens (acceptance below 0.05), or cannot run (non-finite activations).",
      failure: "Drafts with every tensor present at the right shape that compute the wrong thing "
        + "(permuted lm_head rows, swapped q/k/v halves, a wrong norm flag, wrong aux taps, a foreign "
        + "embedding): vLLM serves them without complaint and accepts nothing."),
    Entry(
      id: .probeMisreading, severity: "error", needs: [.probe, .verifier],
      catches: "A collapsed draft whose acceptance comes back under another reading: "
        + "norm_before_residual flipped, vLLM's default aux layers or the declared ones shifted by one, "
        + "the verifier's embedding instead of the draft's. The finding names the fix.",
      failure: "norm_before_residual defaults differ between vLLM and speculators (speculators #52, "
        + "#57); off-by-one aux layer ids (vLLM #40727); exporters that saved random embeddings "
        + "(TorchSpec #38)."),
    Entry(
      id: .manifestMissingFile, severity: "error", needs: [.manifest],
      catches: "A file listed in speculators-manifest.json is absent.",
      failure: "Incomplete uploads or copies of a release."),
    Entry(
      id: .manifestFileDigest, severity: "error", needs: [.manifest],
      catches: "A file's size or SHA-256 differs from the manifest.",
      failure: "Corrupted downloads, edited configs, re-saved weights (hf cache verify, "
        + "huggingface_hub #3298)."),
    Entry(
      id: .manifestUnlistedFile, severity: "error/warning", needs: [.manifest],
      catches: "A weights, index or config file not listed in the manifest (other files: warning).",
      failure: "Files added after conversion that loaders pick up."),
    Entry(
      id: .manifestTensorDigest, severity: "error", needs: [.manifest],
      catches: "A tensor's XXH3-128 differs from the manifest.",
      failure: "A tensor changed after conversion (flipped byte, re-cast, re-trained)."),
    Entry(
      id: .manifestMissingTensor, severity: "error", needs: [.manifest],
      catches: "A tensor listed in the manifest is absent.",
      failure: "Tensors dropped or renamed after conversion."),
    Entry(
      id: .manifestUnlistedTensor, severity: "error", needs: [.manifest],
      catches: "A tensor absent from the manifest.",
      failure: "Tensors added or renamed after conversion."),
    Entry(
      id: .manifestTensorDescriptor, severity: "error", needs: [.manifest],
      catches: "A tensor's dtype, shape or file differs from the manifest.",
      failure: "Re-cast or re-sharded checkpoints passed off as the audited conversion."),
  ]

  /// The entry for `id`.
  package static func entry(for id: CheckID) -> Entry? {
    entries.first { $0.id == id }
  }

  /// Every documented identifier.
  package static var ids: [CheckID] { entries.map(\.id) }

  /// The checks that declare `need`.
  static func ids(needing need: Need) -> [CheckID] {
    entries.filter { $0.needs.contains(need) }.map(\.id)
  }

  /// The checks that do not apply to `kind`.
  static func ids(notApplyingTo kind: DraftKind) -> [CheckID] {
    entries.filter { !$0.appliesTo.contains(kind) }.map(\.id)
  }

  /// The catalogue as the `verify --list-checks --json` document
  /// (`schemas/check-catalogue.schema.json`): one object per check, in report order.
  public static func json() -> JSONValue {
    .object([
      ("tool", ["name": .string(ToolInfo.name), "version": .string(ToolInfo.version)]),
      (
        "checks",
        .array(
          entries.map { entry in
            .object([
              ("id", .string(entry.id.rawValue)), ("severity", .string(entry.severity)),
              ("needs", .string(entry.input.rawValue)), ("catches", .string(entry.catches)),
              ("failure", .string(entry.failure)),
            ])
          })
      ),
    ])
  }

  /// The catalogue as a Markdown table (the body of `docs/checks.md`).
  package static func markdownTable() -> String {
    var out = "| id | severity | needs | catches | real-world failure |\n"
    out += "|---|---|---|---|---|\n"
    for entry in entries {
      let cells = [
        "`\(entry.id.rawValue)`", entry.severity, entry.input.rawValue, entry.catches, entry.failure,
      ].map { $0.replacingOccurrences(of: "|", with: "\\|") }
      out += "| " + cells.joined(separator: " | ") + " |\n"
    }
    return out
  }
}

extension String {
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
