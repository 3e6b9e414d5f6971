// libFuzzer target: the sharded-checkpoint index reader on arbitrary bytes (taken as
// model.safetensors.index.json), then verification against shards holding exactly what the
// index says.
//
// Properties checked besides "no crash, no sanitizer report, no hang": accepted shard names
// are plain file names; entries are sorted by name without repeats; an index always verifies
// against its own map; every error is one line.
import FuzzSupport
@testable import Inspect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShardIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let path = "fuzz/model.safetensors.index.json"
  switch Result(catching: { () throws(CheckpointError) in try ShardIndex.parse(bytes, path: path) }) {
  case .success(let index):
    for shard in index.shards {
      guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != "..", shard != "." else {
        fatalError("unsafe shard name accepted: \(shard)")
      }
    }
    guard index.entries.indices.dropFirst().allSatisfy({ index.entries[$0 - 1].tensor < index.entries[$0].tensor })
    else { fatalError("entries are not sorted and unique") }
    var byShard: [String: [TensorInfo]] = [:]
    for entry in index.entries {
      byShard[entry.shard, default: []].append(
        TensorInfo(name: entry.tensor, dtype: .U8, shape: [0], file: entry.shard, layout: .contiguous(offset: 0, length: 0)))
    }
    do throws(CheckpointError) {
      try index.verify(tensorsByShard: byShard)
    } catch {
      fatalError("an index does not verify against its own weight map: \(error)")
    }
  case .failure(let error):
    guard !error.reason.contains("\n") else { fatalError("multi-line reason: \(error.reason)") }
  }
  return 0
}

@main enum FuzzShardIndex {
  static func main() { runFuzzer(fuzzShardIndex) }
}
