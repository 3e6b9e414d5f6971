/// A checkpoint layout and, where it can be told, the producer that wrote it.
///
/// Raw values are stable identifiers used in JSON reports and audit manifests; never rename
/// one. The table of signatures is in `docs/formats.md`.
public enum SourceFormat: String, Sendable, Hashable, CaseIterable, Codable {
  /// EAGLE-1 / EAGLE-2 (SafeAILab): `fc` [H, 2H], `layers.0.*` without `input_layernorm`,
  /// no own head.
  case eagle1 = "eagle1"
  /// Official HASS (HArmonizedSS): the EAGLE-1 tensors, trained with a fusion bias and
  /// released in fp32. Told from EAGLE-1 only by hints.
  case hassFusionBias = "hass-fusion-bias"
  /// HASS with extra RMSNorms (Speculators `research/hass`): `embed_layernorm`,
  /// `hidden_layernorm`, `lm_head_layernorm` around an EAGLE-1 layer.
  case hassLayernorms = "hass-layernorms"
  /// EAGLE-3 as released by SafeAILab: `midlayer.*`, `d2t` + `t2d`, no embedding, `.bin`.
  case eagle3SafeAILab = "eagle3-safeailab"
  /// EAGLE-3 as written by SpecForge (SGLang): `midlayer.*` names, `LlamaForCausalLMEagle3`,
  /// safetensors.
  case eagle3SpecForge = "eagle3-specforge"
  /// EAGLE-3 exported by NVIDIA ModelOpt before March 2026: `midlayer.*` names, no `t2d`,
  /// no embedding, ModelOpt keys in `eagle_config`.
  case eagle3ModelOptV1 = "eagle3-modelopt-v1"
  /// EAGLE-3 exported by NVIDIA ModelOpt since March 2026: `layers.N.*` names with
  /// `layers.0.hidden_norm`, no `t2d`, no embedding.
  case eagle3ModelOptV2 = "eagle3-modelopt-v2"
  /// EAGLE-3 written by NeMo AutoModel: `model.`-prefixed `layers.0.hidden_norm` names.
  case eagle3NeMo = "eagle3-nemo"
  /// EAGLE-3 with `layers.N.*` naming (`layers.0.hidden_norm`) from a producer that cannot be
  /// told (for example Speculators training output without its `config.json`).
  case eagle3Layers = "eagle3-layers"
  /// The raw output of Speculators' deleted `research/eagle3` trainer: top-level
  /// `hidden_norm`, `input_layernorm`, `lm_head_layernorm`.
  case eagle3SpeculatorsResearch = "eagle3-speculators-research"
  /// A z-lab DFlash draft (`DFlashDraftModel`): Qwen3 layers over `fc` [H, n·H] of tapped
  /// verifier states, `hidden_norm`, `norm`, `dflash_config`; no embedding and no `lm_head`.
  case dflashZLab = "dflash-zlab"
  /// A z-lab DFlash2 draft (`DFlash2DraftModel`: grouped convolutions, candidate selector).
  case dflash2ZLab = "dflash2-zlab"
  /// A ModelOpt training checkpoint (the whole target plus `eagle_module.*`); export it first.
  case modelOptTraining = "modelopt-training"
  /// A Speculators `eagle` checkpoint (`fusion_fc`, `transformer.*`): already converted.
  case speculatorsEagle = "speculators-eagle"
  /// A Speculators `eagle3` checkpoint: already converted.
  case speculatorsEagle3 = "speculators-eagle3"
  /// A Speculators `dflash` checkpoint (vLLM method `dflash`).
  case speculatorsDFlash = "speculators-dflash"
  /// A Speculators `dflash2` checkpoint (vLLM serves it as `dflash` with `DFlash2DraftModel`).
  case speculatorsDFlash2 = "speculators-dflash2"
  /// A Speculators `dspark` checkpoint (DFlash with Markov and confidence heads).
  case speculatorsDSpark = "speculators-dspark"
  /// A Speculators `peagle` checkpoint (parallel EAGLE-3; vLLM serves it as `eagle3`).
  case speculatorsPEagle = "speculators-peagle"
  /// A Speculators `mtp` checkpoint (`mtp_layers.0.*`), deployed by stitching it into its verifier.
  case speculatorsMTP = "speculators-mtp"
  /// A Speculators checkpoint of a type this tool does not know.
  case speculatorsUnsupported = "speculators-unsupported"
  /// vLLM's legacy EAGLE layout (`model_type: "eagle"` with a nested `model` config, or
  /// `enorm` / `hnorm` tensors).
  case vllmLegacyEagle = "vllm-legacy-eagle"
  /// Medusa heads (FasterDecoding/Medusa or vLLM's Medusa format).
  case medusa = "medusa"
  /// IBM fms-extras MLP speculator.
  case mlpSpeculator = "mlp-speculator"
  /// A causal language model with its own multi-token-prediction layers (DeepSeek-V3/GLM
  /// layers past `num_hidden_layers`, Qwen3-Next `mtp.*`, MiMo `model.mtp_layers.*`): vLLM
  /// serves it with `speculative_config {"method": "mtp"}`.
  case mtpVerifier = "mtp-verifier"
  /// A plain Hugging Face causal language model: a verifier, not a draft.
  case hfCausalLM = "hf-causal-lm"
  /// Nothing recognisable.
  case unknown = "unknown"

  /// A short human description of the format.
  public var title: String {
    switch self {
    case .eagle1: return "EAGLE-1/2 draft (SafeAILab layout)"
    case .hassFusionBias: return "HASS draft (EAGLE-1 layout with fusion bias)"
    case .hassLayernorms: return "HASS draft with extra layernorms (Speculators research/hass)"
    case .eagle3SafeAILab: return "EAGLE-3 draft written by SafeAILab"
    case .eagle3SpecForge: return "EAGLE-3 draft written by SpecForge"
    case .eagle3ModelOptV1: return "EAGLE-3 draft exported by ModelOpt (v1, midlayer names)"
    case .eagle3ModelOptV2: return "EAGLE-3 draft exported by ModelOpt (v2, layers.N names)"
    case .eagle3NeMo: return "EAGLE-3 draft written by NeMo AutoModel"
    case .eagle3Layers: return "EAGLE-3 draft with layers.N names (producer not identified)"
    case .eagle3SpeculatorsResearch: return "EAGLE-3 raw output of Speculators research/eagle3"
    case .dflashZLab: return "DFlash draft written by z-lab"
    case .dflash2ZLab: return "DFlash2 draft written by z-lab"
    case .modelOptTraining: return "ModelOpt EAGLE training checkpoint (not exported)"
    case .speculatorsEagle: return "Speculators eagle checkpoint"
    case .speculatorsEagle3: return "Speculators eagle3 checkpoint"
    case .speculatorsDFlash: return "Speculators dflash checkpoint"
    case .speculatorsDFlash2: return "Speculators dflash2 checkpoint"
    case .speculatorsDSpark: return "Speculators dspark checkpoint"
    case .speculatorsPEagle: return "Speculators peagle checkpoint"
    case .speculatorsMTP: return "Speculators mtp checkpoint"
    case .speculatorsUnsupported: return "Speculators checkpoint of an unknown type"
    case .mtpVerifier: return "causal language model with its own MTP layers (a verifier, served with method mtp)"
    case .vllmLegacyEagle: return "vLLM legacy EAGLE checkpoint"
    case .medusa: return "Medusa heads"
    case .mlpSpeculator: return "MLP speculator (IBM fms-extras)"
    case .hfCausalLM: return "Hugging Face causal language model (a verifier, not a draft)"
    case .unknown: return "unrecognised checkpoint"
    }
  }

  /// The draft architecture family the layout belongs to.
  public var family: Family {
    switch self {
    case .eagle1, .hassFusionBias, .hassLayernorms, .speculatorsEagle, .vllmLegacyEagle:
      return .eagle
    case .eagle3SafeAILab, .eagle3SpecForge, .eagle3ModelOptV1, .eagle3ModelOptV2, .eagle3NeMo,
      .eagle3Layers, .eagle3SpeculatorsResearch, .modelOptTraining, .speculatorsEagle3, .speculatorsPEagle:
      return .eagle3
    case .dflashZLab, .dflash2ZLab, .speculatorsDFlash, .speculatorsDFlash2, .speculatorsDSpark:
      return .dflash
    case .speculatorsMTP, .mtpVerifier:
      return .mtp
    case .speculatorsUnsupported, .medusa, .mlpSpeculator, .hfCausalLM, .unknown:
      return .other
    }
  }

  /// Draft architecture families.
  public enum Family: String, Sendable, Hashable {
    /// EAGLE-1/2 and HASS: `fc` over token embedding ⊕ the verifier's last hidden state.
    case eagle
    /// EAGLE-3: `fc` over several tapped verifier hidden states, reduced vocabulary head.
    case eagle3
    /// DFlash (block diffusion): `fc` over tapped verifier states, Qwen3 layers, no own
    /// embedding or head.
    case dflash
    /// Multi-token prediction layers that belong to a verifier.
    case mtp
    /// Anything else.
    case other
  }
}
