/// Which files of a model a command needs, so a Hub or URL source fetches only those.
///
/// - `inspect`, `diff`, `verify PATH`, and `convert MODEL` need the whole checkpoint
///   (``checkpoint``: config.json and every weights file);
/// - `verify --verifier` and `convert --verifier` need only the verifier's config.json for the
///   compatibility checks (``configOnly``);
/// - `convert` of an EAGLE-3 draft without its own embeddings also needs the verifier's
///   embeddings: ``embeddings`` adds the index and the one shard that holds `embed_tokens`.
public struct SourceNeeds: Sendable, Hashable {
  /// Which weights files are needed.
  public enum Weights: Sendable, Hashable {
    /// No weights.
    case none
    /// Every weights file (all shards).
    case all
    /// The file(s) holding any of these tensors: the matching shards of a sharded checkpoint,
    /// the weights file of an unsharded one. Names absent from the index select nothing.
    case tensors([String])
  }

  /// Whether `config.json` is needed (when the source has one).
  public var config: Bool
  /// Which weights are needed.
  public var weights: Weights

  /// Creates a need.
  public init(config: Bool, weights: Weights) {
    self.config = config
    self.weights = weights
  }

  /// `config.json` only.
  public static let configOnly = SourceNeeds(config: true, weights: .none)
  /// `config.json` and every weights file.
  public static let checkpoint = SourceNeeds(config: true, weights: .all)

  /// `config.json` and the weights file(s) holding `names`.
  public static func tensors(_ names: [String]) -> SourceNeeds {
    SourceNeeds(config: true, weights: .tensors(names))
  }

  /// `config.json` and the shard holding the input embeddings.
  public static let embeddings = tensors(embeddingTensorNames)

  /// Where transformers checkpoints keep the input embeddings (Llama-style, multimodal
  /// `text_config` models, and GPT-2 style).
  public static let embeddingTensorNames = [
    "model.embed_tokens.weight",
    "model.language_model.embed_tokens.weight",
    "language_model.model.embed_tokens.weight",
    "embed_tokens.weight",
    "transformer.wte.weight",
  ]
}

/// Resolves `reference` again for a larger `need` than a command was given: how convert gets
/// the one verifier file holding the token embedding from a Hub or URL verifier, and only when
/// the draft lacks its own. Library entry points take resolved sources; the executable passes
/// the model-source resolver as this.
public typealias SourceFetcher =
  @Sendable (_ reference: String, _ need: SourceNeeds) throws(CheckpointError) -> ResolvedSource
