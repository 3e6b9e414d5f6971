import Inspect
import Platform

/// Opens a checkpoint (headers only). The converter uses ``CheckpointReader/open(_:)``; tests
/// inject their own.
package typealias CheckpointOpener = @Sendable (String) throws(CheckpointError) -> Checkpoint

/// The verifier (target) model as the converter needs it: its `config.json` (hidden size,
/// vocabulary, layer count, architectures) and, for eagle3 drafts without embeddings, the one
/// weights file holding its `embed_tokens`.
struct VerifierModel {
  /// Names under which verifiers store the token embedding, in the order they are tried (the
  /// list the source resolver fetches shards by).
  static let embeddingNames = SourceNeeds.embeddingTensorNames
  /// Index files that list a sharded verifier's tensors.
  static let indexNames = ["model.safetensors.index.json", "pytorch_model.bin.index.json"]
  /// Single weights files, in the order they are tried.
  static let singleWeightNames = ["model.safetensors", "pytorch_model.bin"]

  /// The argument as given.
  let given: String
  /// What `speculators_config.verifier.name_or_path` records: the argument as given, or for a
  /// local file (its `config.json` or a weights file) the directory holding it.
  let nameOrPath: String
  /// Where it came from.
  let provenance: SourceProvenance
  /// The directory holding `config.json` and the weights.
  let directory: String
  /// The path of `config.json`.
  let configPath: String
  /// The parsed config.
  let config: ModelConfig
  /// SHA-256 of `config.json`.
  let configSHA256: String

  /// `hidden_size` (top level or `text_config`).
  var hiddenSize: Int? { config.hiddenSize }
  /// The first `vocab_size` anywhere in the config (handles `text_config`).
  var vocabSize: Int? { config.vocabSize ?? config.anyVocabSize }
  /// `num_hidden_layers`.
  var layerCount: Int? { config.numHiddenLayers }
  /// `max_position_embeddings`.
  var maxPositionEmbeddings: Int? { config.int("max_position_embeddings") }
  /// `architectures`, defaulting to `["LlamaForCausalLM"]` as the reference converter does.
  var architectures: [String] { config.architectures ?? ["LlamaForCausalLM"] }

  /// Loads the verifier's `config.json` from a resolved source (a directory, its `config.json`,
  /// or a weights file next to one).
  static func load(_ source: ResolvedSource) throws(CheckpointError) -> VerifierModel {
    let path = source.openPath
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw CheckpointError(.notFound, file: path, reason: "verifier not found")
    }
    let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
    guard isDirectory || (info.st_mode & S_IFMT) == S_IFREG else {
      throw CheckpointError(.invalidArgument, file: path, reason: "the verifier is not a regular file or directory")
    }
    let directory = isDirectory ? path : AtomicOutputDirectory.split(path).parent
    let configPath: String
    if isDirectory {
      configPath = path + "/config.json"
    } else if path.hasSuffix(".json") && !path.hasSuffix(".index.json") {
      configPath = path
    } else {
      configPath = (directory.isEmpty ? "" : directory + "/") + "config.json"
    }
    let mapped: MappedFile
    do {
      mapped = try MappedFile(path: configPath)
    } catch {
      throw CheckpointError(
        error.kind == .notFound ? .notFound : error.kind, file: configPath,
        reason: error.kind == .notFound ? "the verifier has no config.json" : error.reason)
    }
    let json: JSONValue
    do {
      json = try StrictJSONParser.parse(mapped.bytes)
    } catch {
      throw CheckpointError(
        .malformed, file: configPath, offset: UInt64(error.offset), reason: "invalid JSON: \(error.reason)")
    }
    guard json.objectMembers != nil else {
      throw CheckpointError(.malformed, file: configPath, reason: "config.json must hold a JSON object")
    }
    if let violation = ConfigBounds.violations(in: json).first {
      throw CheckpointError(.malformed, file: configPath, reason: "verifier config: " + violation.message)
    }
    // A draft given as the verifier would convert and verify clean, and be served wrongly.
    var weights: Checkpoint?
    if source.origin == .local, isDirectory || !path.hasSuffix(".json") {
      weights = try? CheckpointReader.open(path)
    }
    if let evidence = DraftRecognition.draftEvidence(config: json, checkpoint: weights) {
      throw CheckpointError(
        .invalidArgument, file: source.given,
        reason: "--verifier is a draft (\(evidence)), not the model it drafts for; pass the verifier model")
    }
    var nameOrPath = source.given
    if source.origin == .local && !isDirectory {
      let parent = AtomicOutputDirectory.split(source.given).parent
      nameOrPath = parent.isEmpty ? "." : parent
    }
    return VerifierModel(
      given: source.given, nameOrPath: nameOrPath, provenance: SourceProvenance(source),
      directory: directory.isEmpty ? "." : directory,
      configPath: configPath, config: ModelConfig(json), configSHA256: SHA256Hasher.hex(of: mapped.bytes))
  }

  /// Finds the verifier's token embedding, opening only the weights file that holds it.
  ///
  /// - Returns: the tensor and the name of its file (relative to the verifier directory).
  /// - Throws: ``CheckpointError`` (`.notFound`) when the verifier has no weights or no
  ///   embedding under any known name; (`.malformed`) for an unsafe shard name in the index.
  func locateEmbeddings(open: CheckpointOpener) throws(CheckpointError) -> (tensor: TensorInfo, file: String)
  {
    for indexName in Self.indexNames {
      let indexPath = directory + "/" + indexName
      guard Self.isRegularFile(indexPath) else { continue }
      let mapped = try MappedFile(path: indexPath)
      let index: JSONValue
      do {
        index = try StrictJSONParser.parse(mapped.bytes)
      } catch {
        throw CheckpointError(
          .malformed, file: indexPath, offset: UInt64(error.offset), reason: "invalid JSON: \(error.reason)")
      }
      guard let weightMap = index["weight_map"], weightMap.objectMembers != nil else {
        throw CheckpointError(.malformed, file: indexPath, reason: "no weight_map object")
      }
      for name in Self.embeddingNames {
        guard let shardValue = weightMap[name] else { continue }
        guard let shard = shardValue.stringValue, Self.isSafeShardName(shard) else {
          throw CheckpointError(
            .malformed, file: indexPath, tensor: name, reason: "unsafe or invalid shard name")
        }
        let checkpoint = try open(directory + "/" + shard)
        guard let tensor = checkpoint.tensor(named: name) else {
          throw CheckpointError(
            .notFound, file: directory + "/" + shard, tensor: name,
            reason: "the index names this shard but the tensor is not in it")
        }
        return (tensor, shard)
      }
      throw CheckpointError(
        .notFound, file: indexPath,
        reason: "no token embedding (\(Self.embeddingNames.joined(separator: ", "))) to copy into the draft")
    }
    for single in Self.singleWeightNames {
      let path = directory + "/" + single
      guard Self.isRegularFile(path) else { continue }
      let checkpoint = try open(path)
      for name in Self.embeddingNames {
        if let tensor = checkpoint.tensor(named: name) { return (tensor, single) }
      }
      throw CheckpointError(
        .notFound, file: path,
        reason: "no token embedding (\(Self.embeddingNames.joined(separator: ", "))) to copy into the draft")
    }
    throw CheckpointError(
      .notFound, file: directory,
      reason: "the draft has no embed_tokens.weight and the verifier has no weights to copy it from "
        + "(looked for \((Self.indexNames + Self.singleWeightNames).joined(separator: ", ")))")
  }

  /// Finds the token embedding in the weights a Hub or URL resolution fetched for
  /// ``SourceNeeds/embeddings`` (the one file holding it), opening only those files.
  ///
  /// A partial file (read by range) must hold the tensor's bytes: they are never read from an
  /// absent region. `fetched` is that range, with its SHA-256, for the manifest.
  func locateEmbeddings(
    in resolved: ResolvedSource, open: CheckpointOpener
  ) throws(CheckpointError) -> (tensor: TensorInfo, file: String, fetched: FetchedRange?) {
    for file in resolved.files where file.name != "config.json" && !file.name.hasSuffix(".index.json") {
      let checkpoint = try open(file.localPath)
      for name in Self.embeddingNames {
        guard let tensor = checkpoint.tensor(named: name) else { continue }
        guard file.isPartial else { return (tensor, file.name, nil) }
        guard case .contiguous(let offset, let length) = tensor.layout, file.holds(offset: offset, length: length),
          let range = file.ranges.first(where: { $0.offset == Int64(offset) && $0.length == Int64(length) })
        else {
          throw CheckpointError(
            .io, file: "\(resolved.given): \(file.name)", tensor: name,
            reason: "the tensor's bytes were not fetched from the source")
        }
        return (tensor, file.name, range)
      }
    }
    throw CheckpointError(
      .notFound, file: resolved.given,
      reason: "the draft has no embed_tokens.weight and the verifier has no token embedding "
        + "(\(Self.embeddingNames.joined(separator: ", "))) to copy")
  }

  static func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
  }

  /// A shard name from an index is untrusted: a plain file name, no separators, no `..`.
  static func isSafeShardName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
      && !name.contains("\0")
  }
}
