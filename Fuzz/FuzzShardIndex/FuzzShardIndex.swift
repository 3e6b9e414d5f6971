// libFuzzer target: the sharded-checkpoint index reader on arbitrary bytes (taken as
// model.safetensors.index.json), then verification against shards holding exactly what the
// index says.
//
// Properties checked besides "no crash, no sanitizer report, no hang": the fast scanner path
// and the general JSON path agree (same entries, shards and metadata, or the same error);
// accepted shard names are plain file names; an index always verifies against its own map.
import FuzzSupport
@testable import Inspect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShardIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let path = "fuzz/model.safetensors.index.json"
  let fast = Result { () throws(CheckpointError) in try ShardIndex.parse(bytes, path: path, allowFastPath: true) }
  let general = Result { () throws(CheckpointError) in try ShardIndex.parse(bytes, path: path, allowFastPath: false) }
  switch (fast, general) {
  case (.success(let a), .success(let b)):
    guard a.entries == b.entries, a.shards == b.shards, a.metadata == b.metadata else {
      fatalError("fast and general paths accept different indexes")
    }
    for shard in a.shards {
      guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != "..", shard != "." else {
        fatalError("unsafe shard name accepted: \(shard)")
      }
    }
    var byShard: [String: [TensorInfo]] = [:]
    for entry in a.entries {
      byShard[entry.shard, default: []].append(
        TensorInfo(name: entry.tensor, dtype: .U8, shape: [0], file: entry.shard, layout: .contiguous(offset: 0, length: 0)))
    }
    do throws(CheckpointError) {
      try a.verify(tensorsByShard: byShard)
    } catch {
      fatalError("an index does not verify against its own weight map: \(error)")
    }
  case (.failure(let a), .failure(let b)):
    guard a == b else { fatalError("fast and general paths fail differently: \(a) / \(b)") }
  default:
    fatalError("one path accepts what the other refuses: \(fast) / \(general)")
  }
  return 0
}

@main enum FuzzShardIndex {
  static func main() { runFuzzer(fuzzShardIndex) }
}
