import Inspect

/// One output tensor as planned: what to write and where its values come from.
struct PlannedTensor: Sendable, Hashable {
  /// What the writer writes.
  var entry: SafetensorsWriter.Entry
  /// Where the values come from.
  var origin: AuditManifest.Origin
  /// The source tensor (draft or verifier), `nil` when synthesised.
  var source: TensorInfo?
}

/// Everything one algorithm decided before anything is written.
struct ConversionDraft: Sendable {
  /// The algorithm.
  var algorithm: ConversionAlgorithm
  /// The output tensors.
  var tensors: [PlannedTensor]
  /// The Speculators `config.json`.
  var config: JSONValue
  /// Source tensors left out, with reasons.
  var dropped: [ConversionMapping.Drop]
  /// Feature flags and derived values worth reporting (`fusion_bias`, `draft_vocab_size`, …).
  var flags: [(key: String, value: JSONValue)]
  /// Notes for the user.
  var warnings: [String]
  /// The verifier file the embeddings were read from, if any.
  var embeddingsFile: String?
}

/// Finds the verifier's token embedding: the tensor and the name of the file holding it.
typealias EmbeddingLocator = @Sendable () throws -> (tensor: TensorInfo, file: String)

/// The inputs both algorithms read.
struct ConversionInputs: Sendable {
  /// The opened source.
  var checkpoint: Checkpoint
  /// Its `config.json`.
  var config: ModelConfig
  /// The path of that `config.json`, for messages.
  var configPath: String
  /// The verifier.
  var verifier: VerifierModel
  /// Checked kwargs.
  var kwargs: AlgorithmKwargs
  /// `--dtype`, if given.
  var dtype: DType?
  /// `--allow-drop` patterns.
  var allowDrop: [String]
  /// `--drop-unknown`.
  var dropUnknown: Bool
  /// Finds the verifier's token embedding (fetching the one shard for Hub and URL verifiers).
  var locateEmbeddings: EmbeddingLocator
  /// Reads small tensors (vocabulary maps).
  var reader: TensorReader

  /// An integer the source config must have.
  func requiredInt(_ key: String) throws -> Int {
    guard let value = config.int(key) else {
      throw CheckpointError(.malformed, file: configPath, reason: "'\(key)' is missing or not an integer")
    }
    guard value > 0 else {
      throw CheckpointError(.malformed, file: configPath, reason: "'\(key)' must be positive, not \(value)")
    }
    return value
  }

  /// The source tensor behind a planned rename.
  func sourceTensor(_ name: String) throws -> TensorInfo {
    guard let tensor = checkpoint.tensor(named: name) else {
      throw CheckpointError(
        .notFound, file: checkpoint.location, tensor: name, reason: "tensor missing from the source")
    }
    return tensor
  }

  /// The output dtype of a source tensor: `--dtype` for floats when given, else unchanged.
  func outputDType(for source: DType) throws -> DType {
    guard let dtype, source.isFloatingPoint else { return source }
    return dtype
  }

  /// The planned copies of every rename in `plan`.
  func copies(of plan: ConversionMapping.Plan) throws -> [PlannedTensor] {
    var planned: [PlannedTensor] = []
    for rename in plan.renames {
      let source = try sourceTensor(rename.source)
      planned.append(
        PlannedTensor(
          entry: .init(
            name: rename.output, dtype: try outputDType(for: source.dtype), shape: source.shape,
            content: .tensor(source)),
          origin: .draft, source: source))
    }
    return planned
  }

  /// A warning when the source's float tensors do not share one dtype (and no `--dtype` unifies them).
  func mixedDTypeWarning(_ tensors: [PlannedTensor]) -> String? {
    let floats = Set(tensors.map(\.entry.dtype).filter(\.isFloatingPoint))
    guard floats.count > 1 else { return nil }
    return
      "the output mixes float dtypes (\(floats.map(\.rawValue).sorted().joined(separator: ", "))); pass --dtype to unify them"
  }
}
