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

  /// Which bytes of the selected safetensors files are needed.
  public enum Bytes: Sendable, Hashable {
    /// Whole files (a Hub source downloads them into the Hugging Face cache).
    case whole
    /// The headers only: a Hub source reads them by HTTP Range into local stand-ins whose
    /// data region is absent (``SourceFile/isPartial``).
    case headers
    /// The headers and the bytes of these tensors (read by range; the rest is absent).
    case tensors([String])
  }

  /// Whether `config.json` is needed (when the source has one).
  public var config: Bool
  /// Which weights are needed.
  public var weights: Weights
  /// Which of their bytes.
  public var bytes: Bytes

  /// Creates a need.
  public init(config: Bool, weights: Weights, bytes: Bytes = .whole) {
    self.config = config
    self.weights = weights
    self.bytes = bytes
  }

  /// `config.json` and every weights file's header, for commands that read no tensor values
  /// (inspect, verify's structural and verifier checks).
  public static let headers = SourceNeeds(config: true, weights: .all, bytes: .headers)

  /// This need with whole files (`--download`, or a cache that already holds them).
  public var whole: SourceNeeds { SourceNeeds(config: config, weights: weights, bytes: .whole) }

  /// `config.json` only.
  public static let configOnly = SourceNeeds(config: true, weights: .none)
  /// `config.json` and every weights file.
  public static let checkpoint = SourceNeeds(config: true, weights: .all)

  /// `config.json` and the weights file(s) holding `names`.
  public static func tensors(_ names: [String]) -> SourceNeeds {
    SourceNeeds(config: true, weights: .tensors(names))
  }

  /// `config.json`, the index, and the bytes of the input embeddings (read by range from the
  /// one shard holding them).
  public static let embeddings = SourceNeeds(
    config: true, weights: .tensors(embeddingTensorNames), bytes: .tensors(embeddingTensorNames))

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
  @Sendable (_ reference: String, _ need: SourceNeeds) throws -> ResolvedSource
