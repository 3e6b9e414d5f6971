import Inspect

/// How the probe reads a draft: the choices vLLM makes from the draft's config and tensors,
/// which the diagnosis varies one at a time.
public struct DraftReading: Sendable, Hashable {
  /// The draft's algorithm as the probe runs it.
  public enum Algorithm: String, Sendable, Hashable {
    /// EAGLE-3 (aux taps through `fc`, a 2H-wide first layer).
    case eagle3
    /// EAGLE-1/EAGLE-2/HASS (`fc` over cat(embedding, final hidden state)).
    case eagle
  }

  /// Whose tensor a draft uses.
  public enum Owner: String, Sendable, Hashable {
    /// The draft's own.
    case draft
    /// The verifier's (vLLM shares it when the draft has none).
    case verifier
  }

  /// The algorithm.
  public var algorithm: Algorithm
  /// eagle3: the verifier layers tapped, as vLLM collects them (ascending, no repeats).
  public var auxLayerIDs: [Int]
  /// eagle3: the ids the draft's config declares, if any.
  public var declaredAuxLayerIDs: [Int]?
  /// eagle3: the first layer's residual is `hidden_norm(hidden)` (true) or `hidden` (false).
  public var normBeforeResidual: Bool
  /// eagle3: one RMSNorm (`input_norm`) over the concatenated taps before `fc`.
  public var normBeforeFC: Bool
  /// eagle3: one RMSNorm per tap (`fc_norm.N`) before `fc`.
  public var fcNorm: Bool
  /// eagle3: the hidden state carried to the next draft step is the normalised one.
  public var normOutput: Bool
  /// eagle: the HASS layernorms (`embedding_layernorm`, `pre_lm_head_layernorm`).
  public var layernorms: Bool
  /// Whose `embed_tokens` the draft embeds its input tokens with.
  public var embedding: Owner
  /// Whose `lm_head` the draft's logits come from.
  public var lmHead: Owner

  /// vLLM's default EAGLE-3 taps for an `layers`-layer verifier: (2, L/2, L−3), as collected
  /// (ascending, without repeats; an index below 0 never matches a layer).
  package static func defaultAuxLayerIDs(verifierLayers layers: Int) -> [Int] {
    Array(Set([2, layers / 2, layers - 3])).sorted()
  }

  /// The taps vLLM collects for `ids`: ascending, without repeats.
  package static func collected(_ ids: [Int]) -> [Int] { Array(Set(ids)).sorted() }
}
