/// The verifier (target) model as every command sees it: where its `config.json` and weights
/// are, the sizes a draft must fit (hidden size, vocabulary, layer count), and where its token
/// embedding lives. `convert` and `verify` both hold one (`VerifierModel`, `ResolvedVerifier`)
/// and read these facts through it, so they agree on them.
package struct VerifierConfig: Sendable {
  /// The directory holding `config.json` and the weights.
  package let directory: String
  /// The path of `config.json`.
  package let configPath: String
  /// The parsed config.
  package let config: ModelConfig

  package init(directory: String, configPath: String, config: ModelConfig) {
    self.directory = directory
    self.configPath = configPath
    self.config = config
  }

  /// `hidden_size` (top level or `text_config`).
  package var hiddenSize: Int? { config.hiddenSize }
  /// `vocab_size`: the top-level one, else the first anywhere in the config (`text_config` of a
  /// multimodal verifier).
  package var vocabSize: Int? { config.vocabSize ?? config.anyVocabSize }
  /// `num_hidden_layers`.
  package var layerCount: Int? { config.numHiddenLayers }
  /// `max_position_embeddings`.
  package var maxPositionEmbeddings: Int? { config.int("max_position_embeddings") }
  /// `architectures`, defaulting to `["LlamaForCausalLM"]` as the reference converter does.
  package var architectures: [String] { config.architectures ?? ["LlamaForCausalLM"] }

  /// Names under which verifiers store the token embedding, in the order they are tried.
  package static let embeddingNames = SourceNeeds.embeddingTensorNames
  /// Index files that list a sharded verifier's tensors, in the order they are tried.
  package static let indexNames = WeightFiles.preferredNames.filter { $0.hasSuffix(".index.json") }
  /// Single weights files, in the order they are tried.
  package static let singleWeightNames = WeightFiles.preferredNames.filter { !$0.hasSuffix(".index.json") }
  /// The config file's name.
  package static let configName = "config.json"

  /// Where the verifier given as `path` keeps its config: a directory's `config.json`, a
  /// `.json` file (not an index) itself, else the `config.json` next to a weights file.
  package static func location(of path: String, isDirectory: Bool) -> (directory: String, configPath: String) {
    if isDirectory { return (path, FileSystem.join(path, configName)) }
    let directory = FileSystem.parent(of: path)
    if path.hasSuffix(".json") && !path.hasSuffix(".index.json") { return (directory, path) }
    return (directory, FileSystem.join(directory, configName))
  }

  /// The error that refuses a draft given (as `given`) for the verifier: a draft would convert
  /// and verify clean, and be served wrongly (``DraftRecognition``); `nil` for a verifier.
  package static func draftRefusal(config: JSONValue?, weights: Checkpoint?, given: String) -> UsageError? {
    guard let evidence = DraftRecognition.draftEvidence(config: config, checkpoint: weights) else { return nil }
    return UsageError(
      given,
      reason: "--verifier is a draft (\(evidence)), not the model it drafts for; pass the verifier model")
  }

  /// The token embedding among `checkpoint`'s tensors, under the first of ``embeddingNames``.
  package static func embedding(in checkpoint: Checkpoint) -> TensorInfo? {
    embeddingNames.lazy.compactMap { checkpoint.tensor(named: $0) }.first
  }
}
