/// A fast path for the usual shape of a sharded-checkpoint index: a root object whose
/// `weight_map` maps plain (escape-free) tensor names to plain shard names.
///
/// Other root members (such as `metadata`) are located without interpretation and then parsed
/// by ``StrictJSONParser``. The scanner accepts a strict subset of what the general path
/// accepts and returns `nil` on anything else, including every error, so the general path
/// decides and words the message.
struct ShardIndexScanner {
  /// What the scan found.
  struct Result {
    /// The entries in document order (not yet checked for repeated names).
    var entries: [ShardIndex.Entry]
    /// Shard names in first-seen order, without repeats.
    var shards: [String]
    var metadata: JSONValue?
    /// Whether the tensor names are ASCII and strictly ascending as met (then `entries` is
    /// already sorted and free of repeats).
    var entriesAscending = false
  }

  static func scan(_ bytes: UnsafeRawBufferPointer) -> Result? {
    var cursor = JSONByteCursor(bytes)
    cursor.skipWhitespace()
    guard cursor.consume(0x7B) else { return nil }
    var rootKeys = Set<String>()
    var result: Result?
    var metadata: JSONValue?
    cursor.skipWhitespace()
    guard !cursor.consume(0x7D) else { return nil }
    while true {
      cursor.skipWhitespace()
      guard let key = cursor.scanPlainString(validateUTF8: true), rootKeys.insert(key).inserted else { return nil }
      cursor.skipWhitespace()
      guard cursor.consume(0x3A) else { return nil }
      cursor.skipWhitespace()
      if key == "weight_map" {
        guard let scanned = scanWeightMap(&cursor) else { return nil }
        result = scanned
      } else {
        // Nested one level inside the root, so one level less is allowed here.
        guard let range = cursor.skipValue(maximumDepth: StrictJSONParser.maximumDepth - 1),
          let value = try? StrictJSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[range]))
        else { return nil }
        if key == "metadata" { metadata = value }
      }
      cursor.skipWhitespace()
      if cursor.consume(0x2C) { continue }
      if cursor.consume(0x7D) { break }
      return nil
    }
    cursor.skipWhitespace()
    guard cursor.atEnd, var found = result else { return nil }
    found.metadata = metadata
    return found
  }

  private static func scanWeightMap(_ cursor: inout JSONByteCursor) -> Result? {
    guard cursor.consume(0x7B) else { return nil }
    var entries: [ShardIndex.Entry] = []
    entries.reserveCapacity(cursor.bytes.count / 64)
    var shards: [String] = []
    var lastShard: String?
    var ascending = AscendingASCIIKeys()
    cursor.skipWhitespace()
    guard !cursor.consume(0x7D) else { return nil }
    while true {
      cursor.skipWhitespace()
      guard let tensor = cursor.scanPlainString(validateUTF8: true) else { return nil }
      let tensorEnd = cursor.position - 1
      _ = ascending.admit(
        UnsafeRawBufferPointer(rebasing: cursor.bytes[(tensorEnd - tensor.utf8.count)..<tensorEnd]),
        isASCII: cursor.lastStringWasASCII)
      cursor.skipWhitespace()
      guard cursor.consume(0x3A) else { return nil }
      cursor.skipWhitespace()
      // Consecutive tensors usually share a shard: reuse its string instead of decoding anew.
      let shard: String
      if let lastShard, cursor.consumePlainString(equalTo: lastShard) {
        shard = lastShard
      } else {
        guard let scanned = cursor.scanPlainString(validateUTF8: true) else { return nil }
        shard = scanned
        if !shards.contains(shard) { shards.append(shard) }
        lastShard = shard
      }
      entries.append(ShardIndex.Entry(tensor: tensor, shard: shard))
      cursor.skipWhitespace()
      if cursor.consume(0x2C) { continue }
      if cursor.consume(0x7D) { break }
      return nil
    }
    return Result(entries: entries, shards: shards, metadata: nil, entriesAscending: ascending.holds)
  }
}
