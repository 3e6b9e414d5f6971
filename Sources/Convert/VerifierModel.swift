import Inspect
import Platform

/// Opens a checkpoint (headers only). The converter uses ``CheckpointReader/open(_:)``; tests
/// inject their own.
package typealias CheckpointOpener = @Sendable (String) throws(CheckpointError) -> Checkpoint

/// The verifier (target) model as the converter needs it: the shared ``VerifierConfig`` (its
/// `config.json`, hidden size, vocabulary, layer count, architectures; read through this type by
/// member lookup), where it came from, and, for eagle3 drafts without embeddings, the one weights
/// file holding its `embed_tokens`.
@dynamicMemberLookup
struct VerifierModel {
  private static let embeddingNames = VerifierConfig.embeddingNames
  private static let indexNames = VerifierConfig.indexNames
  private static let singleWeightNames = VerifierConfig.singleWeightNames

  /// The argument as given.
  let given: String
  /// What `speculators_config.verifier.name_or_path` records: the argument as given, or for a
  /// local file (its `config.json` or a weights file) the directory holding it.
  let nameOrPath: String
  /// Where it came from.
  let provenance: SourceProvenance
  /// Its config, directory and sizes.
  let model: VerifierConfig
  /// SHA-256 of `config.json`.
  let configSHA256: String

  /// A fact of ``model`` (`verifier.hiddenSize`, `verifier.configPath`, ...).
  subscript<Value>(dynamicMember keyPath: KeyPath<VerifierConfig, Value>) -> Value {
    model[keyPath: keyPath]
  }

  /// Loads the verifier's `config.json` from a resolved source (a directory, its `config.json`,
  /// or a weights file next to one).
  static func load(_ source: ResolvedSource) throws -> VerifierModel {
    let path = source.openPath
    let entry = FileSystem.entry(at: path)
    guard entry != .missing else {
      throw CheckpointError(.notFound, file: path, reason: "verifier not found")
    }
    let isDirectory = entry == .directory
    guard isDirectory || FileSystem.isRegularFile(path) else {
      throw UsageError(path, reason: "the verifier is not a regular file or directory")
    }
    let (directory, configPath) = VerifierConfig.location(of: path, isDirectory: isDirectory)
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
    if let refusal = VerifierConfig.draftRefusal(config: json, weights: weights, given: source.given) {
      throw refusal
    }
    var nameOrPath = source.given
    if source.origin == .local && !isDirectory {
      let parent = AtomicOutputDirectory.split(source.given).parent
      nameOrPath = parent.isEmpty ? "." : parent
    }
    return VerifierModel(
      given: source.given, nameOrPath: nameOrPath, provenance: SourceProvenance(source),
      model: VerifierConfig(directory: directory, configPath: configPath, config: ModelConfig(json)),
      configSHA256: try SHA256Hasher.hex(of: mapped.bytes, for: configPath))
  }

  /// Finds the verifier's token embedding, opening only the weights file that holds it.
  ///
  /// - Returns: the tensor and the name of its file (relative to the verifier directory).
  /// - Throws: ``CheckpointError`` (`.notFound`) when the verifier has no weights or no
  ///   embedding under any known name; (`.malformed`) for an unsafe shard name in the index.
  func locateEmbeddings(open: CheckpointOpener) throws -> (tensor: TensorInfo, file: String)
  {
    for indexName in Self.indexNames {
      let indexPath = model.directory + "/" + indexName
      guard FileSystem.isRegularFile(indexPath) else { continue }
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
        let checkpoint = try open(model.directory + "/" + shard)
        guard let tensor = checkpoint.tensor(named: name) else {
          throw CheckpointError(
            .notFound, file: model.directory + "/" + shard, tensor: name,
            reason: "the index names this shard but the tensor is not in it")
        }
        return (tensor, shard)
      }
      throw CheckpointError(
        .notFound, file: indexPath,
        reason: "no token embedding (\(Self.embeddingNames.joined(separator: ", "))) to copy into the draft")
    }
    for single in Self.singleWeightNames {
      let path = model.directory + "/" + single
      guard FileSystem.isRegularFile(path) else { continue }
      let checkpoint = try open(path)
      for name in Self.embeddingNames {
        if let tensor = checkpoint.tensor(named: name) { return (tensor, single) }
      }
      throw CheckpointError(
        .notFound, file: path,
        reason: "no token embedding (\(Self.embeddingNames.joined(separator: ", "))) to copy into the draft")
    }
    throw CheckpointError(
      .notFound, file: model.directory,
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
  ) throws -> (tensor: TensorInfo, file: String, fetched: FetchedRange?) {
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

  /// A shard name from an index is untrusted: a plain file name, no separators, no `..`.
  static func isSafeShardName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
      && !name.contains("\0")
  }
}
