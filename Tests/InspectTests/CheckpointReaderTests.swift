import Foundation
import Testing

@testable import Inspect

/// Small safetensors files for checkpoint-level tests.
enum TinyCheckpoint {
  /// A file holding F32 tensors of shape `[count]` named `names`, each `count` elements long,
  /// with `metadata` (compact JSON) when given.
  static func safetensors(_ names: [String], count: Int = 2, metadata: String? = #"{"format":"pt"}"#) -> [UInt8] {
    var entries: [String] = []
    if let metadata { entries.append(#""__metadata__":\#(metadata)"#) }
    var offset = 0
    for name in names {
      entries.append(#""\#(name)":{"dtype":"F32","shape":[\#(count)],"data_offsets":[\#(offset),\#(offset + 4 * count)]}"#)
      offset += 4 * count
    }
    return SafetensorsBytes.make(json: "{" + entries.joined(separator: ",") + "}", dataCount: offset)
  }

  static let config = #"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64}"#
}

/// The error `CheckpointReader.open(path)` throws.
func openError(_ path: String) throws -> CheckpointError {
  try #require(throws: CheckpointError.self) { _ = try CheckpointReader.open(path) }
}

@Suite struct CheckpointReaderTests {
  @Test func opensADirectoryWithASingleFileConfigAndExtras() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("model.safetensors", TinyCheckpoint.safetensors(["b.weight", "a.weight"]))
    try scratch.write("config.json", text: TinyCheckpoint.config)
    try scratch.write("generation_config.json", text: "{not json")
    try scratch.write("tokenizer.json", text: "{}")
    try scratch.write(".hidden", text: "x")
    let checkpoint = try CheckpointReader.open(scratch.path + "/")
    #expect(checkpoint.location == scratch.path + "/")
    #expect(checkpoint.directory == scratch.path)
    #expect(checkpoint.files.map(\.name) == ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"])
    #expect(checkpoint.files.map(\.kind) == [.config, .generationConfig, .safetensors, .other])
    #expect(checkpoint.files.first { $0.name == "tokenizer.json" }?.size == 2)
    #expect(checkpoint.files.first { $0.name == "model.safetensors" }?.path == scratch.path + "/model.safetensors")
    #expect(checkpoint.config?["model_type"] == "llama")
    #expect(checkpoint.tensors.map(\.name) == ["a.weight", "b.weight"])
    #expect(checkpoint.tensor(named: "a.weight")?.file == scratch.path + "/model.safetensors")
    #expect(checkpoint.metadata == ["model.safetensors": ["format": "pt"]])
  }

  @Test func opensASingleFileAndPicksUpItsConfig() throws {
    let scratch = try ScratchDirectory()
    let path = try scratch.write("draft.bin", TinyCheckpoint.safetensors(["x"], metadata: nil))
    try scratch.write("config.json", text: TinyCheckpoint.config)
    try scratch.write("other.safetensors", TinyCheckpoint.safetensors(["y"]))
    let checkpoint = try CheckpointReader.open(path)
    // A .bin holding safetensors bytes is read as safetensors; the neighbour is not listed.
    #expect(checkpoint.files.map(\.name) == ["config.json", "draft.bin"])
    #expect(checkpoint.files.map(\.kind) == [.config, .safetensors])
    #expect(checkpoint.tensors.map(\.name) == ["x"])
    #expect(checkpoint.config != nil)
    #expect(checkpoint.metadata.isEmpty)
  }

  @Test func configIsOptional() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("model.safetensors", TinyCheckpoint.safetensors(["x"]))
    let checkpoint = try CheckpointReader.open(scratch.path)
    #expect(checkpoint.config == nil)
    #expect(checkpoint.files.count == 1)
  }

  @Test func opensAShardedCheckpointFromItsDirectoryOrItsIndex() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("model-00001-of-00002.safetensors", TinyCheckpoint.safetensors(["embed", "layer.0"]))
    try scratch.write("model-00002-of-00002.safetensors", TinyCheckpoint.safetensors(["lm_head"], count: 3))
    try scratch.write("model.safetensors.index.json", text: """
      {"metadata": {"total_size": 28}, "weight_map": {
        "embed": "model-00001-of-00002.safetensors", "layer.0": "model-00001-of-00002.safetensors",
        "lm_head": "model-00002-of-00002.safetensors"}}
      """)
    try scratch.write("model.safetensors", TinyCheckpoint.safetensors(["stale"]))  // the index wins
    for path in [scratch.path, scratch.path + "/model.safetensors.index.json"] {
      let checkpoint = try CheckpointReader.open(path)
      #expect(checkpoint.tensors.map(\.name) == ["embed", "layer.0", "lm_head"])
      #expect(checkpoint.tensor(named: "lm_head")?.file == scratch.path + "/model-00002-of-00002.safetensors")
      #expect(checkpoint.tensor(named: "lm_head")?.shape == [3])
      #expect(checkpoint.weightFiles.map(\.name) == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
      #expect(checkpoint.files.first { $0.name == "model.safetensors.index.json" }?.kind == .index)
      #expect(checkpoint.metadata.count == 2)
      #expect(checkpoint.totalTensorBytes == 28)
    }
    // The directory listing keeps the stale file, as `other`.
    #expect(try CheckpointReader.open(scratch.path).files.first { $0.name == "model.safetensors" }?.kind == .other)
  }

  @Test func prefersTheFirstPresentOfTheConventionalNames() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("pytorch_model.bin", [0x80, 0x02, 0x8A])  // would fail if chosen
    try scratch.write("model.safetensors", TinyCheckpoint.safetensors(["chosen"]))
    #expect(try CheckpointReader.open(scratch.path).tensors.map(\.name) == ["chosen"])
  }

  @Test func usesTheOnlyOtherWeightsFileIgnoringTrainingState() throws {
    let scratch = try ScratchDirectory()
    for state in ["optimizer.bin", "scheduler.bin", "pytorch_model_1.bin", "scaler.pt", "rng_state.pth", "training_args.bin"] {
      try scratch.write(state, [1, 2, 3])
    }
    try scratch.write("eagle_draft.pt", TinyCheckpoint.safetensors(["fc.weight"]))
    let checkpoint = try CheckpointReader.open(scratch.path)
    #expect(checkpoint.tensors.map(\.name) == ["fc.weight"])
    #expect(checkpoint.files.first { $0.name == "eagle_draft.pt" }?.kind == .safetensors)
    #expect(checkpoint.files.first { $0.name == "optimizer.bin" }?.kind == .other)
  }

  @Test func severalCandidatesIsAnErrorListingThem() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("a.pth", TinyCheckpoint.safetensors(["x"]))
    try scratch.write("b.bin", TinyCheckpoint.safetensors(["y"]))
    let error = try openError(scratch.path)
    #expect(error.kind == .unsupported)
    #expect(error.reason == "several weights files and no index (a.pth, b.bin); pass the one to use")
  }

  @Test func aSingleSafetensorsFileWinsOverPickles() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("a.pth", TinyCheckpoint.safetensors(["x"]))
    try scratch.write("b.safetensors", TinyCheckpoint.safetensors(["y"]))
    #expect(try CheckpointReader.open(scratch.path).tensors.map(\.name) == ["y"])
    try scratch.write("c.safetensors", TinyCheckpoint.safetensors(["z"]))
    let error = try openError(scratch.path)
    #expect(error.reason == "several weights files and no index (b.safetensors, c.safetensors); pass the one to use")
  }

  @Test func noWeightsIsAnError() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("config.json", text: "{}")
    let error = try openError(scratch.path)
    #expect(error.kind == .notFound)
    #expect(error.reason.hasPrefix("no weights found (looked for model.safetensors.index.json, model.safetensors,"))
  }

  @Test func missingPathIsNotFound() throws {
    let error = try openError("/nonexistent/speculators/model")
    #expect(error.kind == .notFound)
    #expect(error.description == "/nonexistent/speculators/model: no such file or directory")
  }

  @Test func malformedConfigNamesConfigJSONAndTheOffset() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("model.safetensors", TinyCheckpoint.safetensors(["x"]))
    try scratch.write("config.json", text: #"{"a": 1,, "b": 2}"#)
    let error = try openError(scratch.path)
    #expect(error.file == scratch.path + "/config.json")
    #expect(error.offset == 8)
    #expect(error.reason.hasPrefix("config is not valid JSON: "))

    try scratch.write("config.json", text: #"{"a": 1, "a": 2}"#)
    #expect(try openError(scratch.path).reason == #"config is not valid JSON: duplicate key "a""#)
    try scratch.write("config.json", text: "[1]")
    #expect(try openError(scratch.path).reason == "config is an array, not an object")
  }

  @Test func missingShardIsReportedAgainstTheIndex() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("model-00001-of-00002.safetensors", TinyCheckpoint.safetensors(["a"]))
    try scratch.write("model.safetensors.index.json", text: #"""
      {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
      """#)
    let error = try openError(scratch.path)
    #expect(error.kind == .notFound)
    #expect(error.file == scratch.path + "/model.safetensors.index.json")
    #expect(error.reason.hasPrefix("shard 'model-00002-of-00002.safetensors' listed in the index does not exist"))
  }

  @Test func shardErrorsNameTheShard() throws {
    let scratch = try ScratchDirectory()
    try scratch.write("s1.safetensors", TinyCheckpoint.safetensors(["a"]))
    try scratch.write("s2.safetensors", [1, 2, 3])
    try scratch.write("model.safetensors.index.json", text: #"{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#)
    let error = try openError(scratch.path)
    #expect(error.file == scratch.path + "/s2.safetensors")
    #expect(error.reason.contains("too small for the 8-byte header length"))
  }

  @Test func legacyPickleIsUnsupportedWhateverItsName() throws {
    let scratch = try ScratchDirectory()
    let path = try scratch.write("model.safetensors", FileSniffer.legacyTorchMagic + [0x2E])
    let error = try openError(path)
    #expect(error.kind == .unsupported)
    #expect(error.reason == "legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6")
    #expect(error.file == path)
  }

  @Test func unrecognisedContentSaysWhatItStartsWith() throws {
    let scratch = try ScratchDirectory()
    let path = try scratch.write("weights.pt", Array("hello, world".utf8))
    let error = try openError(path)
    #expect(error.reason == "not a safetensors file or PyTorch zip archive (it starts with 68656c6c6f2c2077)")
  }

  @Test func aZipNamedSafetensorsGoesToTheTorchReader() throws {
    let scratch = try ScratchDirectory()
    let path = try scratch.write("model.safetensors", FileSniffer.zipMagic + [UInt8](repeating: 0, count: 60))
    // Whatever the torch reader makes of these bytes, the safetensors reader must not see them.
    let error = try openError(path)
    #expect(!error.reason.contains("header length"))
    #expect(error.file == path)
  }

  @Test(arguments: [
    ("model.safetensors", true), ("draft.bin", true), ("x.pt", true), ("x.pth", true),
    ("optimizer.bin", false), ("optimizer_1.bin", false), ("scheduler.bin", false), ("pytorch_model_1.bin", false),
    ("pytorch_model_12.bin", false), ("random_states_0.pkl", false), ("scaler.pt", false),
    ("training_args.bin", false), ("model_0.bin", true), ("config.json", false), ("model.safetensors.index.json", false),
  ])
  func classifiesWeightsCandidates(name: String, expected: Bool) {
    #expect(WeightFiles.isWeightsCandidate(name) == expected)
  }
}

@Suite struct CheckpointReaderSniffingTests {
  func sniff(_ bytes: [UInt8], size: Int? = nil) -> FileSniffer.Content {
    bytes.withUnsafeBytes { FileSniffer.sniff($0, fileSize: size ?? bytes.count) }
  }

  @Test func recognisesEachContainer() {
    #expect(sniff(TinyCheckpoint.safetensors(["a"])) == .safetensors)
    #expect(sniff(SafetensorsBytes.make(json: " \n{}")) == .safetensors)
    #expect(sniff(FileSniffer.zipMagic + [0, 0]) == .torchZip)
    #expect(sniff(FileSniffer.legacyTorchMagic + [0x2E]) == .legacyTorchPickle)
    #expect(sniff([0x80, 0x04, 0x95, 0x00]) == .pickle)
    #expect(sniff([]) == .other)
    #expect(sniff(Array("PK\u{05}\u{06}".utf8)) == .other)
  }

  @Test func implausibleHeaderLengthsAreNotSafetensors() {
    #expect(sniff(SafetensorsBytes.make(header: Array("{}".utf8), headerLength: 100)) == .other)
    #expect(sniff(SafetensorsBytes.make(header: Array("{}".utf8), headerLength: 200_000_000), size: 300_000_000) == .other)
    #expect(sniff(SafetensorsBytes.make(header: Array("x}".utf8))) == .other)
    #expect(sniff(SafetensorsBytes.make(header: Array("{}".utf8), headerLength: 1)) == .other)
  }

  @Test func judgesOnlyThePrefixAgainstTheRealSize() {
    let prefix = Array(SafetensorsBytes.make(header: Array("{".utf8), headerLength: 1000).prefix(16))
    #expect(sniff(prefix, size: 2000) == .safetensors)
    #expect(sniff(prefix, size: 500) == .other)
  }
}
