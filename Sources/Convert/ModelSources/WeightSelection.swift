import Inspect

/// How a model's weights are split into files.
enum WeightLayout: Equatable {
  /// One or more weights files without an index.
  case files([String])
  /// A `*.index.json` whose `weight_map` names the shards.
  case sharded(index: String)
}

/// Chooses which files of a model to fetch, from a file list (the Hub's, or a cache folder's).
enum WeightSelection {
  /// The preferred names, in the order `transformers` tries them.
  static let preferred: [(String, Bool)] = [
    ("model.safetensors.index.json", true), ("model.safetensors", false),
    ("pytorch_model.bin.index.json", true), ("pytorch_model.bin", false),
  ]

  /// Training by-products that are never model weights.
  static let notWeights: Set<String> = [
    "training_args.bin", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt",
  ]

  /// The weights layout among `names` (top-level files only); nil when there are no weights.
  static func layout(in names: Set<String>) -> WeightLayout? {
    for (name, isIndex) in preferred where names.contains(name) {
      return isIndex ? .sharded(index: name) : .files([name])
    }
    let top = names.filter { !$0.contains("/") }.sorted()
    let safetensorsIndexes = top.filter { $0.hasSuffix(".safetensors.index.json") }
    if safetensorsIndexes.count == 1 { return .sharded(index: safetensorsIndexes[0]) }
    let safetensors = top.filter { $0.hasSuffix(".safetensors") }
    if !safetensors.isEmpty { return .files(safetensors) }
    let binIndexes = top.filter { $0.hasSuffix(".bin.index.json") }
    if binIndexes.count == 1 { return .sharded(index: binIndexes[0]) }
    let pickles = top.filter {
      ($0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".pth"))
        && !notWeights.contains($0) && !$0.hasPrefix("rng_state")
    }
    return pickles.isEmpty ? nil : .files(pickles)
  }

  /// The layout a single named file implies (a URL to one file).
  static func layout(ofFile name: String) -> WeightLayout {
    name.hasSuffix(".index.json") ? .sharded(index: name) : .files([name])
  }

  /// The shards an index names that hold `weights` (sorted, distinct, validated).
  static func shards(
    inIndex bytes: [UInt8], for weights: SourceNeeds.Weights, label: String
  ) throws(CheckpointError) -> [String] {
    let json: JSONValue
    do {
      json = try StrictJSONParser.parse(bytes)
    } catch {
      throw CheckpointError(.malformed, file: label, offset: UInt64(error.offset), reason: error.reason)
    }
    guard let map = json["weight_map"]?.objectMembers else {
      throw CheckpointError(.malformed, file: label, reason: "the index has no 'weight_map' object")
    }
    var wanted: Set<String>?
    switch weights {
    case .none: return []
    case .all: wanted = nil
    case .tensors(let names): wanted = Set(names)
    }
    var shards: Set<String> = []
    for (tensor, value) in map where wanted?.contains(tensor) ?? true {
      guard let shard = value.stringValue else {
        throw CheckpointError(
          .malformed, file: label, tensor: tensor, reason: "the weight_map entry is not a file name")
      }
      try HubCache.validateFileName(shard, source: label)
      shards.insert(shard)
    }
    return shards.sorted()
  }

  /// What a set of present files lacks for `need`, or the files that satisfy it.
  enum CacheCheck: Equatable {
    case complete([String])
    case missing(String)
  }

  /// Checks whether `present` files satisfy `need`; `isKnownAbsent` says a file is recorded as
  /// not existing at the source; `readFile` reads a present file (an index).
  /// `layout` fixes the weights layout (a URL naming one file); nil derives it from `present`.
  static func check(
    _ need: SourceNeeds, present: Set<String>, layout fixedLayout: WeightLayout? = nil,
    isKnownAbsent: (String) -> Bool, readFile: (String) -> [UInt8]?, label: String
  ) throws(CheckpointError) -> CacheCheck {
    var files: [String] = []
    if need.config {
      if present.contains("config.json") {
        files.append("config.json")
      } else if !isKnownAbsent("config.json") {
        return .missing("config.json")
      }
    }
    if need.weights == .none { return .complete(files) }
    guard let layout = fixedLayout ?? layout(in: present) else { return .missing("the weights files") }
    switch layout {
    case .files(let names):
      let absent = names.filter { !present.contains($0) }
      if !absent.isEmpty { return .missing(absent.joined(separator: ", ")) }
      files += names
    case .sharded(let index):
      guard let bytes = readFile(index) else { return .missing(index) }
      let shards = try shards(inIndex: bytes, for: need.weights, label: label + ": " + index)
      let absent = shards.filter { !present.contains($0) }
      if !absent.isEmpty { return .missing(absent.joined(separator: ", ")) }
      files += [index] + shards
    }
    return .complete(files)
  }
}
