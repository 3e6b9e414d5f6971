import Foundation
import Inspect
import Testing

@testable import Convert

/// Paths of the committed fixtures.
enum FixturePaths {
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
    }
    return url.appendingPathComponent("Fixtures").path
  }()

  static func path(_ name: String) -> String { root + "/" + name }

  /// `expected/<case>.json` tensors: name → (dtype, shape, xxh3).
  static func expectedTensors(_ name: String) throws -> [String: (dtype: String, shape: [Int], xxh3: String)]
  {
    let json = try StrictJSONParser.parse(
      [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/expected/" + name + ".json"))))
    var result: [String: (dtype: String, shape: [Int], xxh3: String)] = [:]
    for (tensor, info) in json["tensors"]?.objectMembers ?? [] {
      result[tensor] = (
        info["dtype"]?.stringValue ?? "", info["shape"]?.arrayValue?.compactMap(\.intValue) ?? [],
        info["xxh3_128"]?.stringValue ?? ""
      )
    }
    return result
  }
}

/// Runs the converter with the test opener (safetensors only; the real readers are not needed).
func convertForTest(
  model: String, algorithm: AlgorithmChoice, verifier: String = FixturePaths.path("verifier"), output: String,
  kwargs: JSONValue = .object([]), dtype: DType? = nil, force: Bool = false,
  maxShardSize: Int = SafetensorsWriter.defaultMaxShardSize,
  allowDrop: [String] = [], dropUnknown: Bool = false, validateDevice: String? = nil, chunkSize: Int = 4096
) throws -> ConversionReport {
  let algorithmKwargs = try AlgorithmKwargs(json: kwargs)
  return try Converter.convert(
    ConversionRequest(
      model: model, verifier: verifier, algorithm: algorithm, outputPath: output,
      algorithmKwargs: algorithmKwargs, validateDevice: validateDevice, dtype: dtype,
      force: force,
      maxShardSize: maxShardSize, allowDrop: allowDrop, dropUnknown: dropUnknown),
    open: { path throws(CheckpointError) in try TestCheckpoints.open(path) }, chunkSize: chunkSize)
}

func readConfig(_ directory: String) throws -> JSONValue {
  try StrictJSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))))
}

func listing(_ directory: String) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

@Suite("Converter on the safetensors fixtures")
struct ConverterFixtureTests {
  @Test("eagle-safetensors: the reference's names and shapes, source dtype and bytes kept")
  func eagleSafetensors() throws {
    let parent = try makeTemporaryDirectory()
    let output = parent + "/out"
    let report = try convertForTest(
      model: FixturePaths.path("eagle-safetensors"), algorithm: .eagle, output: output)
    #expect(listing(output) == ["config.json", "model.safetensors", "speculators-manifest.json"])
    let written = try TestCheckpoints.readSafetensors(output + "/model.safetensors").tensors
    let reference = try TestCheckpoints.readSafetensors(
      FixturePaths.path("reference/eagle-safetensors/model.safetensors")
    ).tensors
    #expect(Set(written.map(\.name)) == Set(reference.map(\.name)))
    for tensor in written {
      #expect(tensor.shape == reference.first { $0.name == tensor.name }?.shape)
      #expect(tensor.dtype == .BF16)
    }
    let source = try FixturePaths.expectedTensors("eagle-safetensors")
    let manifest = try AuditManifest(contentsOf: output + "/speculators-manifest.json")
    for entry in manifest.tensors {
      let sourceName = try #require(entry.source.name)
      #expect(entry.xxh3 == source[sourceName]?.xxh3, "\(entry.name)")
    }
    #expect(manifest.dropped.map(\.name) == ["embed_tokens.weight"])
    #expect(report.flags.first { $0.key == "fusion_bias" }?.value == false)
    let config = try readConfig(output)
    #expect(config["speculators_model_type"] == "eagle")
    #expect(config["architectures"] == ["EagleSpeculator"])
    #expect(config["model_type"] == nil)
    #expect(config["torch_dtype"] == "bfloat16")
    #expect(config["transformer_layer_config"]?["bos_token_id"] == 500)
    #expect(
      config["speculators_config"]?["verifier"]?["name_or_path"]?.stringValue == FixturePaths.path("verifier")
    )
    #expect(config["speculators_config"]?["proposal_methods"]?.arrayValue?.first?["speculative_tokens"] == 3)
  }

  @Test("eagle3-embed: own embeddings kept, SpecForge aux ids converted +1, verifier vocab")
  func eagle3Embed() throws {
    let output = try makeTemporaryDirectory() + "/out"
    _ = try convertForTest(model: FixturePaths.path("eagle3-embed"), algorithm: .auto, output: output)
    let config = try readConfig(output)
    #expect(config["eagle_aux_hidden_state_layer_ids"] == [1, 2, 3])
    #expect(config["norm_before_residual"] == false)
    #expect(config["draft_vocab_size"] == 128)
    #expect(config["target_hidden_size"] == .null)
    #expect(config["transformer_layer_config"]?["vocab_size"] == 512)
    #expect(config["transformer_layer_config"]?["max_position_embeddings"] == 4096)
    #expect(config["transformer_layer_config"]?["rope_theta"] == 500000.0)
    #expect(config["transformer_layer_config"]?["bos_token_id"] == nil)
    #expect(config["norm_before_fc"] == nil && config["fc_norm"] == nil && config["norm_output"] == nil)
    let manifest = try AuditManifest(contentsOf: output + "/speculators-manifest.json")
    #expect(manifest.verifier.embeddingsFile == nil)
    let embed = try #require(manifest.tensors.first { $0.name == "embed_tokens.weight" })
    #expect(embed.source.origin == .draft)
    #expect(manifest.tensors.first { $0.name == "d2t" }?.dtype == .I64)
    #expect(manifest.tensors.first { $0.name == "t2d" }?.dtype == .BOOL)
    #expect(manifest.source.format == "eagle3-specforge")
  }

  @Test("eagle3-2layer: every layers.1 tensor is kept and num_hidden_layers is 2")
  func eagle3TwoLayers() throws {
    let output = try makeTemporaryDirectory() + "/out"
    _ = try convertForTest(model: FixturePaths.path("eagle3-2layer"), algorithm: .eagle3, output: output)
    let written = try TestCheckpoints.readSafetensors(output + "/model.safetensors").tensors
    let source = try FixturePaths.expectedTensors("eagle3-2layer")
    #expect(Set(written.map(\.name)) == Set(source.keys))
    #expect(written.filter { $0.name.hasPrefix("layers.1.") }.count == 9)
    #expect(try readConfig(output)["transformer_layer_config"]?["num_hidden_layers"] == 2)
  }

  @Test("eagle3 without embeddings: the verifier's embed_tokens is read from its first shard and cast")
  func embeddingsFromVerifier() throws {
    let parent = try makeTemporaryDirectory()
    let draft = parent + "/draft"
    try TinyModel.writeDraft(
      TinyModel.eagle3Tensors(dtype: .F16, embed: false),
      config: TinyModel.sourceConfig([("draft_vocab_size", 128)]), in: draft)
    let output = parent + "/out"
    let report = try convertForTest(model: draft, algorithm: .eagle3, output: output)
    let manifest = try AuditManifest(contentsOf: output + "/speculators-manifest.json")
    #expect(manifest.verifier.embeddingsFile == "model-00001-of-00002.safetensors")
    let embed = try #require(manifest.tensors.first { $0.name == "embed_tokens.weight" })
    #expect(embed.dtype == .F16)
    #expect(embed.source.origin == .verifier)
    #expect(embed.source.name == "model.embed_tokens.weight")
    #expect(embed.source.dtype == .BF16)
    #expect(
      embed.source.xxh3 == (try FixturePaths.expectedTensors("verifier"))["model.embed_tokens.weight"]?.xxh3)
    #expect(report.tensors.first { $0.name == "embed_tokens.weight" }?.origin == .verifier)
    // Values: every F16 element equals the BF16 verifier element rounded once.
    let verifierEmbed = try #require(
      try TestCheckpoints.readSafetensors(FixturePaths.path("verifier/model-00001-of-00002.safetensors"))
        .tensors
        .first { $0.name == "model.embed_tokens.weight" })
    let written = try #require(
      try TestCheckpoints.readSafetensors(output + "/model.safetensors").tensors.first {
        $0.name == "embed_tokens.weight"
      })
    let wide = try TestCheckpoints.bytes(of: verifierEmbed)
    let narrow = try TestCheckpoints.bytes(of: written)
    for index in stride(from: 0, to: wide.count / 2, by: 97) {
      let brain = UInt32(wide[2 * index]) | UInt32(wide[2 * index + 1]) << 8
      let expected = ElementCodec.f32ToF16(ElementCodec.bf16ToF32(UInt16(brain))).0
      #expect(UInt16(narrow[2 * index]) | UInt16(narrow[2 * index + 1]) << 8 == expected)
    }
  }

  @Test("two runs give byte-identical files, and the manifest's digests match them")
  func deterministic() throws {
    // Same input and options (the output path is recorded in the manifest), so convert into the
    // same path twice, moving the first result aside.
    let parent = try makeTemporaryDirectory()
    _ = try convertForTest(
      model: FixturePaths.path("eagle3-2layer"), algorithm: .eagle3, output: parent + "/a",
      maxShardSize: 60_000)
    try FileManager.default.moveItem(atPath: parent + "/a", toPath: parent + "/b")
    _ = try convertForTest(
      model: FixturePaths.path("eagle3-2layer"), algorithm: .eagle3, output: parent + "/a",
      maxShardSize: 60_000)
    let files = listing(parent + "/a")
    #expect(files.contains("model.safetensors.index.json"))
    #expect(files == listing(parent + "/b"))
    for file in files {
      let first = try Data(contentsOf: URL(fileURLWithPath: parent + "/a/" + file))
      let second = try Data(contentsOf: URL(fileURLWithPath: parent + "/b/" + file))
      #expect(first == second, "\(file)")
    }
    let manifest = try AuditManifest(contentsOf: parent + "/a/speculators-manifest.json")
    #expect(manifest.files.map(\.name) == files.filter { $0 != "speculators-manifest.json" })
    for file in manifest.files {
      let path = parent + "/a/" + file.name
      let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
      #expect(try CheckpointHasher.sha256(ofFile: path) == file.sha256 && size == file.size)
    }
    let checkpoint = try TestCheckpoints.open(parent + "/a")
    for tensor in manifest.tensors {
      let info = try #require(checkpoint.tensor(named: tensor.name))
      #expect(try TestCheckpoints.bytes(of: info).withUnsafeBytes { XXH3Hasher.hex(of: $0) } == tensor.xxh3)
      #expect(info.file.hasSuffix(tensor.file))
    }
  }

  @Test("--dtype float32 widens exactly and records the source digests")
  func dtypeWidening() throws {
    let output = try makeTemporaryDirectory() + "/out"
    _ = try convertForTest(
      model: FixturePaths.path("eagle3-embed"), algorithm: .eagle3, output: output, dtype: .F32)
    let manifest = try AuditManifest(contentsOf: output + "/speculators-manifest.json")
    let source = try FixturePaths.expectedTensors("eagle3-embed")
    for tensor in manifest.tensors {
      #expect(tensor.dtype == (["d2t": DType.I64, "t2d": .BOOL][tensor.name] ?? .F32))
      #expect(tensor.source.xxh3 == source[tensor.source.name ?? ""]?.xxh3)
    }
    #expect(try readConfig(output)["torch_dtype"] == "float32")
  }

  @Test("--validate-device cpu re-opens the output and checks every digest; others are noted")
  func validation() throws {
    let parent = try makeTemporaryDirectory()
    let report = try convertForTest(
      model: FixturePaths.path("eagle-safetensors"), algorithm: .eagle, output: parent + "/cpu",
      validateDevice: "cpu")
    #expect((report.validation?.checks.count ?? 0) >= 4)
    let passed = try #require(report.validation?.checks.first { $0.hasPrefix("passed: ") })
    for id in ["manifest.tensor-digest", "manifest.file-digest", "verifier.hidden-size", "content.nan-inf"] {
      #expect(passed.contains(id), "\(id) not in \(passed)")
    }
    let cuda = try convertForTest(
      model: FixturePaths.path("eagle-safetensors"), algorithm: .eagle, output: parent + "/cuda",
      validateDevice: "cuda:0")
    #expect(
      cuda.validation?.notes == [
        "validation device cuda:0 not applicable: no forward pass is run; structural checks done on cpu"
      ])
  }
}

@Suite("Converter refuses bad input and leaves nothing behind")
struct ConverterErrorTests {
  /// Runs a conversion that must fail; checks nothing is at the output and no temporary is left.
  func failure(
    _ expectedReason: String, model: String, algorithm: AlgorithmChoice = .auto,
    verifier: String = FixturePaths.path("verifier"),
    kwargs: JSONValue = .object([]), prepare: (String) throws -> Void = { _ in }
  ) throws -> (any Error)? {
    let parent = try makeTemporaryDirectory()
    try prepare(parent)
    let before = listing(parent)
    let error = #expect(throws: (any Error).self) {
      try convertForTest(
        model: model, algorithm: algorithm, verifier: verifier, output: parent + "/out", kwargs: kwargs)
    }
    let line = error.map { "\($0)" } ?? "no error"
    #expect(line.contains(expectedReason), "\(line)")
    #expect(listing(parent) == before)
    return error
  }

  func draft(_ tensors: [TestTensor], config: JSONValue = TinyModel.sourceConfig([("draft_vocab_size", 128)]))
    throws -> String
  {
    let directory = try makeTemporaryDirectory() + "/draft"
    try TinyModel.writeDraft(tensors, config: config, in: directory)
    return directory
  }

  @Test("missing config.json")
  func missingConfig() throws {
    let directory = try makeTemporaryDirectory() + "/draft"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try TestCheckpoints.writeSafetensors(
      TinyModel.eagleTensors(bias: false), to: directory + "/model.safetensors")
    _ = try failure("no config.json next to the weights", model: directory, algorithm: .eagle)
  }

  @Test("wrong algorithm for the layout")
  func wrongAlgorithm() throws {
    _ = try failure(
      "--algorithm eagle contradicts the detected layout eagle3-specforge",
      model: FixturePaths.path("eagle3-embed"),
      algorithm: .eagle)
    _ = try failure(
      "--algorithm eagle3 contradicts the detected layout eagle1",
      model: FixturePaths.path("eagle-safetensors"),
      algorithm: .eagle3)
    _ = try failure(
      "already in the Speculators format", model: FixturePaths.path("reference/eagle-safetensors"),
      algorithm: .eagle)
  }

  @Test("a library request with an impossible shard size or dtype is refused naming the output, not a flag")
  func invalidRequestValues() throws {
    let parent = try makeTemporaryDirectory()
    let output = parent + "/out"
    for request in [
      ConversionRequest(
        model: FixturePaths.path("eagle3-embed"), verifier: FixturePaths.path("verifier"), algorithm: .eagle3,
        outputPath: output, maxShardSize: 0),
      ConversionRequest(
        model: FixturePaths.path("eagle3-embed"), verifier: FixturePaths.path("verifier"), algorithm: .eagle3,
        outputPath: output, dtype: .I8),
    ] {
      let error = #expect(throws: UsageError.self) { try Converter.convert(request) }
      #expect(error?.file == output)
      #expect(error?.description.contains("--") == false)
      #expect(listing(parent) == [])
    }
  }

  @Test("--ignore-detection converts with an algorithm that contradicts the detected layout")
  func forceOverridesTheDetector() throws {
    let parent = try makeTemporaryDirectory()
    // An EAGLE-1 layout forced through eagle3: the detector is overruled, so the failure (if
    // any) now comes from the mapping itself, not from the contradiction check.
    let request = ConversionRequest(
      model: FixturePaths.path("eagle-safetensors"), verifier: FixturePaths.path("verifier"), algorithm: .eagle3,
      outputPath: parent + "/out", ignoreDetection: true)
    let error = #expect(throws: CheckpointError.self) { try Converter.convert(request) }
    #expect(error?.description.contains("contradicts the detected layout") == false)
    #expect(error?.description.contains("--allow-drop") == false)
    #expect(listing(parent) == [])
  }

  @Test("verifier hidden size or vocabulary that does not fit")
  func verifierMismatch() throws {
    let wide = try makeTemporaryDirectory() + "/verifier"
    try TinyModel.writeVerifier(in: wide, hidden: 96)
    _ = try failure(
      "verifier hidden_size 96 does not fit the draft", model: FixturePaths.path("eagle-safetensors"),
      verifier: wide)
    _ = try failure("fc.weight", model: FixturePaths.path("eagle3-embed"), verifier: wide)
    let bigVocab = try makeTemporaryDirectory() + "/verifier"
    try TinyModel.writeVerifier(in: bigVocab, vocab: 1024)
    _ = try failure(
      "verifier vocab_size 1024 does not fit the draft", model: FixturePaths.path("eagle-safetensors"),
      verifier: bigVocab)
    _ = try failure(
      "verifier vocab_size 1024 does not fit the draft (t2d covers 512 tokens)",
      model: FixturePaths.path("eagle3-embed"), verifier: bigVocab)
  }

  @Test("aux layer ids above the verifier's layer count, or repeated")
  func auxRange() throws {
    _ = try failure(
      "entry 5 is above the verifier's num_hidden_layers 4", model: FixturePaths.path("eagle3-embed"),
      kwargs: ["eagle_aux_hidden_state_layer_ids": [1, 2, 5]])
    _ = try failure(
      "[1, 2, 2] repeats a layer", model: FixturePaths.path("eagle3-embed"),
      kwargs: ["eagle_aux_hidden_state_layer_ids": [1, 2, 2]])
    _ = try failure(
      "has 2 entries but fc.weight takes 3 hidden states", model: FixturePaths.path("eagle3-embed"),
      kwargs: ["eagle_aux_hidden_state_layer_ids": [1, 2]])
  }

  @Test("unknown kwarg")
  func unknownKwarg() throws {
    _ = try failure(
      "unknown eagle3 kwarg 'layernorms' (valid: eagle_aux_hidden_state_layer_ids, fc_norm, norm_before_fc, norm_before_residual, norm_output)",
      model: FixturePaths.path("eagle3-embed"), kwargs: ["layernorms": true])
  }

  @Test("a draft lm_head wider than the draft vocabulary")
  func wideHead() throws {
    var tensors = TinyModel.eagle3Tensors(embed: true).filter { $0.name != "lm_head.weight" }
    tensors.append(.random("lm_head.weight", [256, 64]))
    _ = try failure("256 rows is wider than the draft vocabulary (128)", model: try draft(tensors))
  }

  @Test("a t2d whose popcount disagrees with the draft vocabulary")
  func popcount() throws {
    var tensors = TinyModel.eagle3Tensors(embed: true).filter { $0.name != "t2d" }
    tensors.append(.bool("t2d", (0..<512).map { $0 % 4 == 0 || $0 == 3 }))
    _ = try failure(
      "tensor 't2d': 129 tokens are marked but the draft vocabulary has 128", model: try draft(tensors))
  }

  @Test("unknown tensors without --allow-drop")
  func unknownTensor() throws {
    let tensors = TinyModel.eagle3Tensors(embed: true) + [.random("mystery.weight", [4])]
    _ = try failure("'mystery.weight' (not part of the eagle3 layout)", model: try draft(tensors))
  }

  @Test("an output path that is a file")
  func outputIsFile() throws {
    _ = try failure("the output path exists and is not a directory", model: FixturePaths.path("eagle3-embed"))
    { parent in
      try "x".write(toFile: parent + "/out", atomically: false, encoding: .utf8)
    }
  }

  @Test("an existing non-empty output without --force")
  func existingOutput() throws {
    _ = try failure("pass --force to replace it", model: FixturePaths.path("eagle3-embed")) { parent in
      try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
      try "keep".write(toFile: parent + "/out/keep.txt", atomically: false, encoding: .utf8)
    }
  }
}

@Suite("Converter options")
struct ConverterOptionTests {
  @Test("--allow-drop lists the dropped tensor in the manifest with its reason")
  func allowDrop() throws {
    let parent = try makeTemporaryDirectory()
    try TinyModel.writeDraft(
      TinyModel.eagle3Tensors(embed: true) + [.random("mystery.weight", [4])],
      config: TinyModel.sourceConfig([("draft_vocab_size", 128)]), in: parent + "/draft")
    _ = try convertForTest(
      model: parent + "/draft", algorithm: .eagle3, output: parent + "/out", allowDrop: ["mystery.weight"])
    let manifest = try AuditManifest(contentsOf: parent + "/out/speculators-manifest.json")
    #expect(
      manifest.dropped == [
        .init(
          name: "mystery.weight",
          reason: "not part of the eagle3 layout; dropped at the user's request (--allow-drop)")
      ])
  }

  @Test("eagle: forcing fusion_bias on a bias-less draft writes a zero bias and the flag")
  func forcedBias() throws {
    let output = try makeTemporaryDirectory() + "/out"
    let report = try convertForTest(
      model: FixturePaths.path("eagle-safetensors"), algorithm: .eagle, output: output,
      kwargs: ["fusion_bias": true])
    #expect(try readConfig(output)["fusion_bias"] == true)
    let bias = try #require(
      try TestCheckpoints.readSafetensors(output + "/model.safetensors").tensors.first {
        $0.name == "fusion_fc.bias"
      })
    #expect(try TestCheckpoints.bytes(of: bias).allSatisfy { $0 == 0 })
    #expect(report.tensors.first { $0.name == "fusion_fc.bias" }?.origin == .synthesized)
    #expect(report.warnings.contains { $0.contains("fusion_fc.bias") })
  }

  @Test("--force replaces an existing output")
  func force() throws {
    let parent = try makeTemporaryDirectory()
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    try "old".write(toFile: parent + "/out/old.txt", atomically: false, encoding: .utf8)
    _ = try convertForTest(
      model: FixturePaths.path("eagle-safetensors"), algorithm: .eagle, output: parent + "/out", force: true)
    #expect(listing(parent + "/out") == ["config.json", "model.safetensors", "speculators-manifest.json"])
    #expect(listing(parent) == ["out"])
  }

  @Test("the output may not be an input")
  func outputIsInput() throws {
    let error = #expect(throws: ConversionError.self) {
      try convertForTest(
        model: FixturePaths.path("eagle-safetensors"), algorithm: .eagle,
        output: FixturePaths.path("eagle-safetensors"), force: true)
    }
    #expect(error?.kind == .output)
    #expect(error?.reason == "the output path is (or contains) an input checkpoint")
    #expect(listing(FixturePaths.path("eagle-safetensors")) == ["config.json", "model.safetensors"])
  }
}
