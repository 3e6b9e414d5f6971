/// A Hugging Face sharded-checkpoint index (`model.safetensors.index.json`,
/// `pytorch_model.bin.index.json`): which shard file holds each tensor.
///
/// Shard names come from the file and are untrusted: ``parse(_:path:)`` accepts only plain file
/// names in the index's own directory (no absolute paths, no `..`, no separators of either
/// kind, nothing empty). ``verify(tensorsByShard:shardPaths:)`` then checks the index against what the
/// shards really hold, in both directions.
package struct ShardIndex: Sendable {
  /// One `weight_map` entry.
  package struct Entry: Sendable, Hashable {
    /// The tensor name.
    package var tensor: String
    /// The shard file name (a plain file name in the index's directory).
    package var shard: String
  }

  /// The path of the index file.
  package var path: String
  /// The `weight_map` entries, sorted by tensor name (names are unique).
  package var entries: [Entry]
  /// The distinct shard file names, sorted (the order loaders open them in).
  package var shards: [String]
  /// The index's `metadata` object (for example `total_size`), if present; not interpreted.
  package var metadata: JSONValue?

  /// Tensor name → shard file name.
  package var weightMap: [String: String] {
    Dictionary(entries.map { ($0.tensor, $0.shard) }, uniquingKeysWith: { first, _ in first })
  }

  /// The shard the index names for `tensor`, if it lists it.
  package func shard(of tensor: String) -> String? {
    position(of: tensor).map { entries[$0].shard }
  }

  /// The largest index file accepted: 64 MiB.
  package static let maximumFileSize = 64 << 20

  /// Reads and parses the index at `path`.
  ///
  /// - Throws: ``CheckpointError`` when the file cannot be read, is over
  ///   ``maximumFileSize``, is not strict JSON, or breaks a rule of ``parse(_:path:)``.
  package static func read(path: String) throws(CheckpointError) -> ShardIndex {
    let file = try MappedFile(path: path)
    guard file.count <= maximumFileSize else {
      throw CheckpointError(
        .limitExceeded, file: path,
        reason: "index is \(file.count) bytes, over the \(maximumFileSize)-byte limit")
    }
    return try parse(file.bytes, path: path)
  }

  /// Parses index JSON `bytes`, reporting errors against `path`.
  ///
  /// One pass of ``StrictJSONParser``: the weight map is read straight into entries, without a
  /// tree. Every JSON error comes before any rule about the index; then the rules in order:
  /// the root is an object, it has a `weight_map`, which is a non-empty object whose values are
  /// strings, each shard name valid (checked where it first appears).
  package static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> ShardIndex {
    var parser = StrictJSONParser(bytes)
    var root: JSONValue?
    var weightMap: JSONValue?
    var metadata: JSONValue?
    var entries: [Entry] = []
    var shards = Set<String>()
    // The first weight-map value that breaks a rule.
    var problem: CheckpointError?
    do throws(StrictJSONParser.Failure) {
      if parser.nextValueKind() != .object {
        root = try parser.parseValue()
      } else {
        try parser.forEachMember { parser, key, _ throws(StrictJSONParser.Failure) in
          switch key {
          case "weight_map" where parser.nextValueKind() == .object:
            weightMap = .object([])
            entries.reserveCapacity(bytes.count / 64)
            var lastShard: String?
            try parser.forEachMember { parser, tensor, _ throws(StrictJSONParser.Failure) in
              guard parser.nextValueKind() == .string else {
                let value = try parser.parseValue()
                problem = problem ?? CheckpointError(
                  .malformed, file: path, tensor: tensor,
                  reason: "shard name is \(JSONDescription.typeWithArticle(value)), not a string")
                return
              }
              // Neighbouring tensors mostly share a shard, and then its name.
              let shard = try parser.parseString(reusing: lastShard)
              guard problem == nil else { return }
              if shard != lastShard, !shards.contains(shard) {
                do throws(CheckpointError) {
                  try validateShardName(shard, index: path, tensor: tensor)
                } catch {
                  problem = error
                  return
                }
                shards.insert(shard)
              }
              lastShard = shard
              entries.append(Entry(tensor: tensor, shard: shard))
            }
          case "weight_map": weightMap = try parser.parseValue()
          case "metadata": metadata = try parser.parseValue()
          default: _ = try parser.parseValue()
          }
        }
      }
      try parser.finish()
    } catch {
      throw CheckpointError(
        .malformed, file: path, offset: UInt64(error.offset), reason: "index is not valid JSON: \(error.reason)")
    }
    if let root {
      throw CheckpointError(.malformed, file: path, reason: "index is \(JSONDescription.typeWithArticle(root)), not an object")
    }
    guard let weightMap else {
      throw CheckpointError(.malformed, file: path, reason: "index has no 'weight_map'")
    }
    guard case .object = weightMap else {
      throw CheckpointError(
        .malformed, file: path, reason: "'weight_map' is \(JSONDescription.typeWithArticle(weightMap)), not an object")
    }
    if let problem { throw problem }
    guard !entries.isEmpty else {
      throw CheckpointError(.malformed, file: path, reason: "'weight_map' lists no tensors")
    }
    // Names are unique (the parser refuses a repeated key), and usually written sorted.
    if !entries.indices.dropFirst().allSatisfy({ entries[$0 - 1].tensor < entries[$0].tensor }) {
      entries.sort { $0.tensor < $1.tensor }
    }
    return ShardIndex(path: path, entries: entries, shards: shards.sorted(), metadata: metadata)
  }

  /// Checks that `name` is a plain file name that stays in the index's directory.
  ///
  /// - Throws: ``CheckpointError`` (`.malformed`) naming the index, the tensor that listed the
  ///   shard, and what is wrong with the name.
  package static func validateShardName(_ name: String, index: String, tensor: String? = nil) throws(CheckpointError) {
    func reject(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, file: index, tensor: tensor, reason: reason)
    }
    let shown = JSONWriter.quote(name)
    if name.isEmpty { throw reject("empty shard name") }
    if name.hasPrefix("/") { throw reject("shard name \(shown) is an absolute path") }
    if name.utf8.contains(0x5C) { throw reject("shard name \(shown) contains a backslash") }
    if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") || name == ".." {
      throw reject("shard name \(shown) contains a '..' component")
    }
    if name.contains("/") { throw reject("shard name \(shown) contains a path separator") }
    if name == "." { throw reject("shard name \(shown) is not a file name") }
    if name.utf8.contains(0) { throw reject("shard name \(shown) contains a NUL byte") }
    if name.utf8.count > 255 { throw reject("shard name \(shown) is longer than 255 bytes") }
  }

  /// Checks the index against the tensors each shard really holds (keys are shard file names
  /// as listed in ``shards``).
  ///
  /// Every indexed tensor must be in exactly the shard the index names, and every tensor found
  /// in a shard must be in the index. A tensor stored in two shards is an error too.
  ///
  /// - Parameters:
  ///   - tensorsByShard: the tensors read from each shard, keyed by shard file name.
  ///   - shardPaths: the path of each shard, used to name the shard in errors.
  /// - Throws: ``CheckpointError`` (`.malformed`) naming the shard or index and the tensor.
  package func verify(
    tensorsByShard: [String: [TensorInfo]], shardPaths: [String: String] = [:]
  ) throws(CheckpointError) {
    _ = try entryPositions(tensorsByShard: tensorsByShard, shardPaths: shardPaths)
  }

  /// ``verify(tensorsByShard:shardPaths:)``, returning for each of ``shards`` (in order) the
  /// position in ``entries`` of each of its tensors. After it returns, every position is
  /// named exactly once, so the tensors laid out by these positions are in name order.
  /// Shard names are quoted escaped in reasons (``TerminalText``): a reason is one line.
  func entryPositions(
    tensorsByShard: [String: [TensorInfo]], shardPaths: [String: String] = [:]
  ) throws(CheckpointError) -> [[Int]] {
    var seen = [Bool](repeating: false, count: entries.count)
    var positions: [[Int]] = []
    positions.reserveCapacity(shards.count)
    for shard in shards {
      // A shard's tensors are usually a run of consecutive index entries: try the entry after
      // the previous hit before searching.
      var hint = 0
      var shardPositions: [Int] = []
      shardPositions.reserveCapacity(tensorsByShard[shard]?.count ?? 0)
      for tensor in tensorsByShard[shard] ?? [] {
        let position: Int
        if hint < entries.count, entries[hint].tensor == tensor.name {
          position = hint
        } else if let found = self.position(of: tensor.name) {
          position = found
        } else {
          throw CheckpointError(
            .malformed, file: shardPaths[shard] ?? shard, tensor: tensor.name,
            reason: "tensor is in shard '\(TerminalText.escaped(shard))' but missing from the index \(Self.fileName(path))")
        }
        hint = position + 1
        let listed = entries[position].shard
        if seen[position] || listed != shard {
          if seen[position] || tensorsByShard[listed]?.contains(where: { $0.name == tensor.name }) == true {
            let (first, second) = listed < shard ? (listed, shard) : (shard, listed)
            throw CheckpointError(
              .malformed, file: shardPaths[shard] ?? shard, tensor: tensor.name,
              reason:
              "tensor is stored in both '\(TerminalText.escaped(first))' and '\(TerminalText.escaped(second))'")
          }
          throw CheckpointError(
            .malformed, file: path, tensor: tensor.name,
            reason:
              "index places the tensor in '\(TerminalText.escaped(listed))' but it is stored in '\(TerminalText.escaped(shard))'"
          )
        }
        seen[position] = true
        shardPositions.append(position)
      }
      positions.append(shardPositions)
    }
    if let missing = seen.firstIndex(of: false) {
      throw CheckpointError(
        .malformed, file: path, tensor: entries[missing].tensor,
        reason: "index places the tensor in '\(TerminalText.escaped(entries[missing].shard))' but that shard does not contain it")
    }
    return positions
  }

  /// The position of `tensor` in ``entries``, by binary search.
  private func position(of tensor: String) -> Int? {
    var low = 0
    var high = entries.count
    while low < high {
      let middle = (low + high) / 2
      if entries[middle].tensor < tensor { low = middle + 1 } else { high = middle }
    }
    return low < entries.count && entries[low].tensor == tensor ? low : nil
  }

  private static func fileName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }
}
