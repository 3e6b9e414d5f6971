import Foundation
import Testing

@testable import Inspect

func parseIndex(_ text: String) throws(CheckpointError) -> ShardIndex {
  var result: Result<ShardIndex, CheckpointError> = .failure(CheckpointError(.io, file: "", reason: ""))
  Array(text.utf8).withUnsafeBytes { raw in
    result = Result { () throws(CheckpointError) -> ShardIndex in
      try ShardIndex.parse(raw, path: "model.safetensors.index.json")
    }
  }
  return try result.get()
}

func tensor(_ name: String, in file: String) -> TensorInfo {
  TensorInfo(name: name, dtype: .F32, shape: [1], file: file, layout: .contiguous(offset: 0, length: 4))
}

@Suite struct ShardIndexTests {
  static let twoShards = """
    {
      "metadata": {"total_size": 12, "total_parameters": 3, "future": {"x": [1]}},
      "weight_map": {
        "b": "model-00002-of-00002.safetensors",
        "a": "model-00001-of-00002.safetensors",
        "c": "model-00002-of-00002.safetensors"
      },
      "unknown": true
    }
    """

  @Test func parsesTheWeightMapAndIgnoresMetadata() throws {
    let index = try parseIndex(Self.twoShards)
    #expect(index.weightMap == [
      "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
      "c": "model-00002-of-00002.safetensors",
    ])
    #expect(index.shards == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    #expect(index.metadata?["total_size"] == 12)
    #expect(index.path == "model.safetensors.index.json")
  }

  @Test(arguments: [
    (#"{"weight_map": {"a": "x", "a": "y"}}"#, #"index is not valid JSON: duplicate key "a""#),
    (#"{"weight_map": {"a\nb": "x", "a\nb": "y"}}"#, #"index is not valid JSON: duplicate key "a\x0ab""#),
    ("[]", "index is an array, not an object"),
    (#"{"metadata": {}}"#, "index has no 'weight_map'"),
    (#"{"weight_map": []}"#, "'weight_map' is an array, not an object"),
    (#"{"weight_map": {}}"#, "'weight_map' lists no tensors"),
    (#"{"weight_map": {"a": 3}}"#, "shard name is a number, not a string"),
    (#"{"weight_map": {"a": ""}}"#, "empty shard name"),
    (#"{"weight_map": {"a": "/etc/model.safetensors"}}"#, #"shard name "/etc/model.safetensors" is an absolute path"#),
    (#"{"weight_map": {"a": "../model.safetensors"}}"#, #"shard name "../model.safetensors" contains a '..' component"#),
    (#"{"weight_map": {"a": ".."}}"#, "contains a '..' component"),
    (#"{"weight_map": {"a": "x/../../m.safetensors"}}"#, "contains a '..' component"),
    (#"{"weight_map": {"a": "sub/m.safetensors"}}"#, #"shard name "sub/m.safetensors" contains a path separator"#),
    (#"{"weight_map": {"a": "..\\m.safetensors"}}"#, "contains a backslash"),
    (#"{"weight_map": {"a": "."}}"#, "is not a file name"),
    (#"{"weight_map": {"a": "m\u0000.safetensors"}}"#, "contains a NUL byte"),
  ])
  func rejectsBadIndexes(text: String, reason: String) {
    #expect {
      _ = try parseIndex(text)
    } throws: { error in
      guard let error = error as? CheckpointError else { return false }
      return error.kind == .malformed && error.reason.contains(reason)
        && error.file == "model.safetensors.index.json"
    }
  }

  @Test func namesTheTensorThatListedABadShard() throws {
    let error = try #require(throws: CheckpointError.self) {
      _ = try parseIndex(#"{"weight_map": {"ok": "m.safetensors", "evil": "../../etc/passwd"}}"#)
    }
    #expect(error.tensor == "evil")
    #expect(error.description == #"model.safetensors.index.json: tensor 'evil': shard name "../../etc/passwd" contains a '..' component"#)
  }

  @Test func verifyAcceptsAMatchingCheckpoint() throws {
    let index = try parseIndex(Self.twoShards)
    try index.verify(tensorsByShard: [
      "model-00001-of-00002.safetensors": [tensor("a", in: "1")],
      "model-00002-of-00002.safetensors": [tensor("b", in: "2"), tensor("c", in: "2")],
    ])
  }

  @Test func verifyQuotesShardNamesOnOneLine() throws {
    let index = try parseIndex(#"{"weight_map": {"a": "x\ny.safetensors", "b": "x\ny.safetensors"}}"#)
    let error = try #require(throws: CheckpointError.self) {
      try index.verify(tensorsByShard: ["x\ny.safetensors": [tensor("a", in: "shard")]])
    }
    #expect(error.tensor == "b")
    #expect(error.reason == "index places the tensor in 'x\\x0ay.safetensors' but that shard does not contain it")
  }

  @Test(arguments: [
    (
      ["model-00001-of-00002.safetensors": ["a", "z"], "model-00002-of-00002.safetensors": ["b", "c"]],
      "z", "tensor is in shard 'model-00001-of-00002.safetensors' but missing from the index"
    ),
    (
      ["model-00001-of-00002.safetensors": [], "model-00002-of-00002.safetensors": ["a", "b", "c"]],
      "a",
      "index places the tensor in 'model-00001-of-00002.safetensors' but it is stored in 'model-00002-of-00002.safetensors'"
    ),
    (
      ["model-00001-of-00002.safetensors": ["a"], "model-00002-of-00002.safetensors": ["b"]],
      "c", "index places the tensor in 'model-00002-of-00002.safetensors' but that shard does not contain it"
    ),
    (
      ["model-00001-of-00002.safetensors": ["a", "b"], "model-00002-of-00002.safetensors": ["b", "c"]],
      "b", "tensor is stored in both 'model-00001-of-00002.safetensors' and 'model-00002-of-00002.safetensors'"
    ),
  ])
  func verifyRejectsMismatches(contents: [String: [String]], tensorName: String, reason: String) throws {
    let index = try parseIndex(Self.twoShards)
    let tensors = contents.mapValues { names in names.map { tensor($0, in: "shard") } }
    let error = try #require(throws: CheckpointError.self) {
      try index.verify(tensorsByShard: tensors)
    }
    #expect(error.tensor == tensorName)
    #expect(error.reason.contains(reason), "got: \(error.description)")
  }
}

@Suite struct ShardIndexLookupTests {
  @Test func looksUpShardsByTensorName() throws {
    let index = try parseIndex(ShardIndexTests.twoShards)
    #expect(index.entries.map(\.tensor) == ["a", "b", "c"])
    #expect(index.shard(of: "b") == "model-00002-of-00002.safetensors")
    #expect(index.shard(of: "a") == "model-00001-of-00002.safetensors")
    #expect(index.shard(of: "0") == nil)
    #expect(index.shard(of: "z") == nil)
  }

  @Test func anOversizedIndexIsRefusedBeforeParsing() throws {
    let scratch = try ScratchDirectory()
    let path = try scratch.write("model.safetensors.index.json", text: "{")
    // Sparse: no disk space is used.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: UInt64(ShardIndex.maximumFileSize + 1))
    try handle.close()
    let error = try #require(throws: CheckpointError.self) { _ = try ShardIndex.read(path: path) }
    #expect(error.kind == .limitExceeded)
    #expect(error.reason == "index is 67108865 bytes, over the 67108864-byte limit")
  }
}
