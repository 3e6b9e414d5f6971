import Inspect

/// Chooses which files of a model to fetch, from a file list (the Hub's, or a cache folder's).
///
/// Which files are the weights is ``WeightFiles``' rule, the one the reader opens by.
enum WeightSelection {
  /// The weights among `names` (a Hub file list or a cache folder), or the error naming
  /// `label` when there are none or several candidates.
  static func layout(in names: Set<String>, label: String) throws(SourceError) -> WeightFiles.Selection {
    switch WeightFiles.select(among: names) {
    case .success(let selection): return selection
    case .failure(let refusal):
      throw SourceError(refusal == .none ? .notFound : .unsupportedLayout, file: label, reason: refusal.reason)
    }
  }

  /// The selection a single named file implies (a URL to one file).
  static func layout(ofFile name: String) -> WeightFiles.Selection {
    name.hasSuffix(".index.json") ? .index(name) : .file(name)
  }

  /// The shards an index names that hold `weights` (sorted, distinct, validated).
  static func shards(
    inIndex bytes: [UInt8], for weights: SourceNeeds.Weights, label: String
  ) throws -> [String] {
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
    _ need: SourceNeeds, present: Set<String>, layout fixedLayout: WeightFiles.Selection? = nil,
    isKnownAbsent: (String) -> Bool, readFile: (String) -> [UInt8]?, label: String
  ) throws -> CacheCheck {
    var files: [String] = []
    if need.config {
      if present.contains("config.json") {
        files.append("config.json")
      } else if !isKnownAbsent("config.json") {
        return .missing("config.json")
      }
    }
    if need.weights == .none { return .complete(files) }
    guard let layout = fixedLayout ?? (try? layout(in: present, label: label)) else {
      return .missing("the weights files")
    }
    switch layout {
    case .file(let name):
      guard present.contains(name) else { return .missing(name) }
      files.append(name)
    case .index(let index):
      guard let bytes = readFile(index) else { return .missing(index) }
      let shards = try shards(inIndex: bytes, for: need.weights, label: label + ": " + index)
      let absent = shards.filter { !present.contains($0) }
      if !absent.isEmpty { return .missing(absent.joined(separator: ", ")) }
      files += [index] + shards
    }
    return .complete(files)
  }
}
