/// Opens checkpoints: a directory, a single weights file, or a sharded index.
///
/// Only headers are read: safetensors JSON headers, zip directories and pickles, the index, and
/// `config.json`. Which parser reads a weights file is decided by its first bytes
/// (``FileSniffer``), not its name.
public enum CheckpointReader {
  /// The largest `config.json` accepted: 64 MiB.
  public static let maximumConfigSize = 64 << 20

  /// Opens the checkpoint at `path`, reading headers only.
  ///
  /// - A directory: the weights ``WeightFiles/select(among:)`` chooses (the rule the Hub and
  ///   URL sources fetch by); several candidates of one kind are refused with their names.
  /// - A `*.index.json` file: the sharded checkpoint it describes.
  /// - Any other file: a single weights file, read according to its content.
  ///
  /// `config.json` next to the weights is parsed strictly when present; other files of a
  /// directory are listed with their kinds.
  ///
  /// - Throws: ``CheckpointError`` naming the file (and offset or tensor) at fault.
  public static func open(_ path: String) throws(CheckpointError) -> Checkpoint {
    let location = FileSystem.trimmingTrailingSlashes(path)
    switch FileSystem.entry(at: location) {
    case .missing:
      throw CheckpointError(.notFound, file: path, reason: "no such file or directory")
    case .other:
      throw CheckpointError(.io, file: path, reason: "not a regular file or directory")
    case .directory:
      let names = try FileSystem.contents(of: location).filter { !$0.hasPrefix(".") }
      let weights = try selectWeights(in: location, names: names)
      return try read(location: path, directory: location, weights: weights, listing: names)
    case .regularFile:
      let directory = FileSystem.parent(of: location)
      let name = FileSystem.lastComponent(of: location)
      let weights: WeightsSelection = name.hasSuffix(".index.json") ? .index(name) : .files([name])
      var listing = [name]
      for extra in ["config.json", "generation_config.json"] where extra != name {
        if case .regularFile = FileSystem.entry(at: FileSystem.join(directory, extra)) {
          listing.append(extra)
        }
      }
      return try read(location: path, directory: directory, weights: weights, listing: listing)
    }
  }

  // MARK: - Choosing the weights

  private enum WeightsSelection {
    case index(String)
    case files([String])
  }

  private static func selectWeights(in directory: String, names: [String]) throws(CheckpointError) -> WeightsSelection {
    let files = names.filter {
      if case .regularFile = FileSystem.entry(at: FileSystem.join(directory, $0)) { return true }
      return false
    }
    switch WeightFiles.select(among: files) {
    case .success(.index(let name)): return .index(name)
    case .success(.file(let name)): return .files([name])
    case .failure(let refusal):
      throw CheckpointError(refusal == .none ? .notFound : .unsupported, file: directory, reason: refusal.reason)
    }
  }

  // MARK: - Reading

  private static func read(
    location: String, directory: String, weights: WeightsSelection, listing: [String]
  ) throws(CheckpointError) -> Checkpoint {
    var kinds: [String: CheckpointFileKind] = [:]
    var tensors: [TensorInfo] = []
    var metadata: [String: [String: String]] = [:]
    var listed = listing
    var inNameOrder = false

    switch weights {
    case .index(let indexName):
      kinds[indexName] = .index
      let indexPath = FileSystem.join(directory, indexName)
      let index = try ShardIndex.read(path: indexPath)
      var shardPaths: [String: String] = [:]
      for shard in index.shards {
        let shardPath = FileSystem.join(directory, shard)
        guard case .regularFile = FileSystem.entry(at: shardPath) else {
          throw CheckpointError(
            .notFound, file: indexPath,
            reason: "shard '\(shard)' listed in the index does not exist in \(directory)")
        }
        shardPaths[shard] = shardPath
      }
      var tensorsByShard: [String: [TensorInfo]] = [:]
      var shardTensors: [[TensorInfo]] = []
      var contentsByShard = try readWeightsConcurrently(paths: index.shards.map { shardPaths[$0] ?? $0 })
      for (shard, contents) in zip(index.shards, contentsByShard) {
        kinds[shard] = contents.kind
        if let fileMetadata = contents.metadata { metadata[shard] = fileMetadata }
        tensorsByShard[shard] = contents.tensors
        shardTensors.append(contents.tensors)
        if !listed.contains(shard) { listed.append(shard) }
      }
      contentsByShard = []
      let positions = try index.entryPositions(tensorsByShard: tensorsByShard, shardPaths: shardPaths)
      tensorsByShard = [:]
      // Verified: each index entry is named by exactly one shard tensor. Laid out by entry
      // position, the tensors come out in name order and Checkpoint need not sort them. They
      // are moved, not copied: each shard's list is now the only reference to its tensors.
      let entryCount = index.entries.count
      tensors = Array(unsafeUninitializedCapacity: entryCount) { buffer, count in
        count = 0
        guard let base = buffer.baseAddress else { return }
        for shard in shardTensors.indices {
          var moving: [TensorInfo] = []
          swap(&moving, &shardTensors[shard])
          while let tensor = moving.popLast() {
            (base + positions[shard][moving.count]).initialize(to: tensor)
          }
        }
        count = entryCount
      }
      inNameOrder = true
    case .files(let names):
      var owner: [String: String] = [:]
      for name in names {
        let contents = try readWeights(path: FileSystem.join(directory, name))
        kinds[name] = contents.kind
        if let fileMetadata = contents.metadata { metadata[name] = fileMetadata }
        // Names are unique within a file; only several files can clash.
        for tensor in contents.tensors where names.count > 1 {
          if let other = owner[tensor.name] {
            throw CheckpointError(
              .malformed, file: tensor.file, tensor: tensor.name,
              reason: "tensor is stored in both '\(other)' and '\(name)'")
          }
          owner[tensor.name] = name
        }
        tensors += contents.tensors
      }
    }

    var config: JSONValue?
    if listed.contains("config.json") {
      kinds["config.json"] = .config
      config = try readConfig(path: FileSystem.join(directory, "config.json"))
    }
    if listed.contains("generation_config.json") { kinds["generation_config.json"] = .generationConfig }
    if listed.contains("speculators-manifest.json") { kinds["speculators-manifest.json"] = .manifest }

    var files: [CheckpointFile] = []
    for name in listed {
      let filePath = FileSystem.join(directory, name)
      guard case .regularFile(let size) = FileSystem.entry(at: filePath) else { continue }
      files.append(CheckpointFile(path: filePath, name: name, size: size, kind: kinds[name] ?? .other))
    }
    files.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    if inNameOrder {
      return Checkpoint(
        location: location, directory: directory, files: files, config: config, metadata: metadata,
        tensorsInNameOrder: tensors)
    }
    return Checkpoint(
      location: location, directory: directory, files: files, config: config, metadata: metadata,
      tensors: tensors)
  }

  private struct WeightsContents: Sendable {
    var kind: CheckpointFileKind
    var tensors: [TensorInfo]
    var metadata: [String: String]?
  }

  /// Reads several weights files in parallel; the first error in `paths` order wins.
  private static func readWeightsConcurrently(paths: [String]) throws(CheckpointError) -> [WeightsContents] {
    try ConcurrentWork.map(count: paths.count) { index throws(CheckpointError) in try readWeights(path: paths[index]) }
  }

  /// Reads one weights file, choosing the parser from its first bytes.
  private static func readWeights(path: String) throws(CheckpointError) -> WeightsContents {
    let file = try MappedFile(path: path)
    let content = FileSniffer.sniff(file)
    switch content {
    case .safetensors:
      let header = try SafetensorsReader.readHeader(from: file)
      return WeightsContents(kind: .safetensors, tensors: header.tensors, metadata: header.metadata)
    case .torchZip:
      return WeightsContents(kind: .torchZip, tensors: try TorchZipReader.readTensors(from: file), metadata: nil)
    case .other where path.hasSuffix(".safetensors"):
      // Not plausible as safetensors, but named so: let the reader say precisely what is wrong.
      let header = try SafetensorsReader.readHeader(from: file)
      return WeightsContents(kind: .safetensors, tensors: header.tensors, metadata: header.metadata)
    case .legacyTorchPickle, .pickle, .other:
      throw FileSniffer.unreadableError(content, file: file)
        ?? CheckpointError(.unsupported, file: path, reason: "unrecognised file content")
    }
  }

  /// Parses `config.json` strictly.
  static func readConfig(path: String) throws(CheckpointError) -> JSONValue {
    let file = try MappedFile(path: path)
    guard file.count <= maximumConfigSize else {
      throw CheckpointError(
        .limitExceeded, file: path, reason: "config is \(file.count) bytes, over the \(maximumConfigSize)-byte limit")
    }
    let value: JSONValue
    do throws(StrictJSONParser.Failure) {
      value = try StrictJSONParser.parse(file.bytes)
    } catch {
      throw CheckpointError(
        .malformed, file: path, offset: UInt64(error.offset), reason: "config is not valid JSON: \(error.reason)")
    }
    guard case .object = value else {
      throw CheckpointError(.malformed, file: path, reason: "config is \(JSONDescription.typeWithArticle(value)), not an object")
    }
    return value
  }
}
