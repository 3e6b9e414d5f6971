import Foundation
import Inspect
import Testing

/// Whether the checkpoint readers are built in this tree (without them the binary
/// cannot open a source and these tests are skipped).
private let readersAvailable: Bool = {
  (try? CheckpointReader.open(TestPaths.fixtures.appendingPathComponent("eagle-safetensors").path)) != nil
}()

/// The six convertible fixture kinds and their algorithm.
private let fixtureCases: [(String, String)] = [
  ("eagle1-bin", "eagle"), ("eagle-safetensors", "eagle"), ("hass-layernorms", "eagle"),
  ("eagle3-bin", "eagle3"), ("eagle3-embed", "eagle3"), ("eagle3-2layer", "eagle3"),
]

/// Runs the binary with the working directory at the package root (so relative fixture paths
/// and `name_or_path: "Fixtures/verifier"` are what a user would see).
private func speculators(_ arguments: [String], fileSizeLimitBlocks: Int? = nil) throws -> CommandResult {
  try runSpeculators(
    arguments, environment: ["NO_COLOR": "1"], workingDirectory: TestPaths.packageRoot,
    fileSizeLimitBlocks: fileSizeLimitBlocks)
}

private func contents(_ directory: URL) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}

private func json(_ url: URL) throws -> JSONValue {
  try StrictJSONParser.parse([UInt8](Data(contentsOf: url)))
}

/// `Fixtures/expected/<case>.json` tensors: name → (dtype, shape, xxh3).
private func expectedTensors(_ name: String) throws -> [String: (dtype: String, shape: [Int], xxh3: String)] {
  let document = try json(TestPaths.fixtures.appendingPathComponent("expected/\(name).json"))
  var result: [String: (dtype: String, shape: [Int], xxh3: String)] = [:]
  for (tensor, info) in document["tensors"]?.objectMembers ?? [] {
    result[tensor] = (
      info["dtype"]?.stringValue ?? "", info["shape"]?.arrayValue?.compactMap(\.intValue) ?? [],
      info["xxh3_128"]?.stringValue ?? ""
    )
  }
  return result
}

private func sha256(_ url: URL) throws -> String {
  let bytes = try [UInt8](Data(contentsOf: url))
  return try bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) }
}

@Suite("convert end to end", .enabled(if: readersAvailable, "checkpoint readers are not built in this tree"))
struct ConvertEndToEndTests {
  @Test(
    "each fixture kind converts: names and shapes of the reference, source dtype and digests kept",
    arguments: fixtureCases)
  func fixture(name: String, algorithm: String) throws {
    let parent = try TestPaths.temporaryDirectory()
    let output = parent.appendingPathComponent("out")
    let result = try speculators([
      "convert", "Fixtures/\(name)", "--algorithm", algorithm, "--verifier", "Fixtures/verifier",
      "--output-path", output.path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(contents(output) == ["config.json", "model.safetensors", "speculators-manifest.json"])
    let written = try CheckpointReader.open(output.path)
    let reference = try CheckpointReader.open(
      TestPaths.fixtures.appendingPathComponent("reference/\(name)").path)
    let extra = Set(written.tensors.map(\.name)).subtracting(reference.tensors.map(\.name))
    #expect(
      extra
        == (name == "eagle3-2layer"
          ? Set(written.tensors.map(\.name).filter { $0.hasPrefix("layers.1.") }) : []))
    #expect(Set(reference.tensors.map(\.name)).isSubset(of: written.tensors.map(\.name)))
    for tensor in reference.tensors {
      #expect(written.tensor(named: tensor.name)?.shape == tensor.shape, "\(tensor.name)")
    }
    // Values: digest equality with the source tensor (dtype kept), or the verifier's embedding.
    let manifest = try AuditManifest(
      contentsOf: output.appendingPathComponent("speculators-manifest.json").path)
    let source = try expectedTensors(name)
    let verifier = try expectedTensors("verifier")
    let reader = TensorReader()
    for entry in manifest.tensors {
      let tensor = try #require(written.tensor(named: entry.name))
      var hasher = XXH3Hasher()
      try reader.forEachChunk(of: tensor) { hasher.update($0) }
      #expect(hasher.finalizeHex() == entry.xxh3, "\(entry.name)")
      switch entry.source.origin {
      case .draft:
        let original = try #require(source[entry.source.name ?? ""])
        #expect(entry.dtype.rawValue == original.dtype)
        #expect(entry.xxh3 == original.xxh3, "\(entry.name)")
      case .verifier:
        #expect(entry.source.xxh3 == verifier["model.embed_tokens.weight"]?.xxh3)
        #expect(entry.dtype == .F16)
      case .synthesized:
        Issue.record("no fixture needs a synthesised tensor: \(entry.name)")
      }
    }
    // Config fields (docs/convert.md, "Config").
    let config = try json(output.appendingPathComponent("config.json"))
    let referenceConfig = try json(TestPaths.fixtures.appendingPathComponent("reference/\(name)/config.json"))
    #expect(config["model_type"] == nil)
    for key in [
      "speculators_model_type", "architectures", "layernorms", "fusion_bias",
      "transformer_layer_architecture",
      "draft_vocab_size", "norm_before_residual", "target_hidden_size",
    ] {
      #expect(config[key] == referenceConfig[key], "\(key)")
    }
    var referenceLayer = try #require(referenceConfig["transformer_layer_config"])
    if name == "eagle3-2layer" { referenceLayer = referenceLayer.setting("num_hidden_layers", to: 2) }
    #expect(config["transformer_layer_config"] == referenceLayer)
    let ours = try #require(config["speculators_config"])
    let theirs = try #require(referenceConfig["speculators_config"])
    #expect(ours["verifier"] == theirs["verifier"])
    #expect(ours["algorithm"] == theirs["algorithm"])
    #expect(ours["proposal_methods"]?.arrayValue?.first?["speculative_tokens"] == 3)
  }

  @Test("two runs give byte-identical files; the manifest's digests match them")
  func deterministic() throws {
    let parent = try TestPaths.temporaryDirectory()
    let output = parent.appendingPathComponent("out")
    let arguments = [
      "convert", "Fixtures/eagle3-bin", "--algorithm", "auto", "--verifier", "Fixtures/verifier",
      "--output_path",
      output.path, "--max-shard-size", "50KB",
    ]
    #expect(try speculators(arguments).status == 0)
    let first = parent.appendingPathComponent("first")
    try FileManager.default.moveItem(at: output, to: first)
    #expect(try speculators(arguments).status == 0)
    let files = contents(output)
    #expect(files.contains("model.safetensors.index.json"))
    #expect(files == contents(first))
    for file in files {
      #expect(
        try Data(contentsOf: output.appendingPathComponent(file))
          == Data(contentsOf: first.appendingPathComponent(file)), "\(file)")
    }
    let manifest = try AuditManifest(
      contentsOf: output.appendingPathComponent("speculators-manifest.json").path)
    #expect(manifest.files.map(\.name) == files.filter { $0 != "speculators-manifest.json" })
    for file in manifest.files {
      #expect(try sha256(output.appendingPathComponent(file.name)) == file.sha256, "\(file.name)")
    }
  }

  @Test("--json report, config.json and manifest validate against schemas/ (python3 jsonschema)")
  func schemas() throws {
    let parent = try TestPaths.temporaryDirectory()
    let output = parent.appendingPathComponent("out")
    let result = try speculators([
      "convert", "Fixtures/hass-layernorms", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
      "--output-path",
      output.path, "--json", "--validate-device", "cpu",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let report = parent.appendingPathComponent("report.json")
    try result.stdout.write(to: report, atomically: false, encoding: .utf8)
    let parsed = try json(report)
    #expect(parsed["validation"]?["device"] == "cpu")
    #expect(parsed["flags"]?["layernorms"] == true)
    let schemas = TestPaths.packageRoot.appendingPathComponent("schemas")
    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    check.arguments = [
      "python3", "-c",
      """
      import json, sys, jsonschema
      for schema, document in zip(sys.argv[1::2], sys.argv[2::2]):
          jsonschema.Draft202012Validator(json.load(open(schema))).validate(json.load(open(document)))
      """,
      schemas.appendingPathComponent("convert-report.schema.json").path, report.path,
      schemas.appendingPathComponent("speculators-config.schema.json").path,
      output.appendingPathComponent("config.json").path,
      schemas.appendingPathComponent("speculators-manifest.schema.json").path,
      output.appendingPathComponent("speculators-manifest.json").path,
    ]
    let pipe = Pipe()
    check.standardError = pipe
    try check.run()
    let message = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    check.waitUntilExit()
    #expect(check.terminationStatus == 0, "\(message)")
  }

  @Test("human output lists files, tensors and what was dropped; --help shows examples")
  func human() throws {
    let parent = try TestPaths.temporaryDirectory()
    let result = try speculators([
      "convert", "Fixtures/eagle1-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
      "--output-path",
      parent.appendingPathComponent("out").path,
    ])
    #expect(result.status == 0)
    #expect(result.stdout.contains("fusion_fc.weight  F16 [64, 128]  ← fc.weight"))
    #expect(result.stdout.contains("embed_tokens.weight: eagle drafts take embeddings from the verifier"))
    #expect(!result.stdout.contains("\u{1B}["))
    let help = try speculators(["convert", "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("--output-path"))
    #expect(help.stdout.contains("speculators convert ./EAGLE3-LLaMA3.1-Instruct-8B --algorithm eagle3"))
  }
}

@Suite(
  "convert refuses bad input", .enabled(if: readersAvailable, "checkpoint readers are not built in this tree")
)
struct ConvertBadInputTests {
  /// Runs a conversion that must fail with exit 2, one line on stderr containing `reason`, and
  /// nothing at the output path (and no temporary directory) afterwards.
  private func refuses(
    _ reason: String, _ arguments: [String], fileSizeLimitBlocks: Int? = nil,
    prepare: (URL) throws -> [String] = { _ in [] }
  ) throws {
    let parent = try TestPaths.temporaryDirectory()
    let prefix = try prepare(parent)
    let before = contents(parent)
    let output = parent.appendingPathComponent("out")
    let result = try speculators(
      ["convert"] + prefix + arguments + ["--output-path", output.path],
      fileSizeLimitBlocks: fileSizeLimitBlocks)
    #expect(result.status == 2, "\(result.stderr)")
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(result.stderr)")
    #expect(result.stderr.hasPrefix("error: "))
    #expect(result.stderr.contains(reason), "\(result.stderr)")
    #expect(contents(parent) == before)
  }

  @Test("missing config.json")
  func missingConfig() throws {
    try refuses(
      "no config.json next to the weights", ["--algorithm", "eagle", "--verifier", "Fixtures/verifier"]
    ) { parent in
      let draft = parent.appendingPathComponent("draft")
      try FileManager.default.createDirectory(at: draft, withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        at: TestPaths.fixtures.appendingPathComponent("eagle-safetensors/model.safetensors"),
        to: draft.appendingPathComponent("model.safetensors"))
      return [draft.path]
    }
  }

  @Test("wrong algorithm for the layout")
  func wrongAlgorithm() throws {
    try refuses(
      "--algorithm eagle", ["Fixtures/eagle3-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier"])
    try refuses(
      "--algorithm eagle3",
      ["Fixtures/eagle1-bin", "--algorithm", "eagle3", "--verifier", "Fixtures/verifier"])
  }

  @Test("a verifier whose hidden size or vocabulary does not fit")
  func verifierMismatch() throws {
    for (key, value, reason) in [
      ("hidden_size", "96", "verifier hidden_size 96"), ("vocab_size", "1024", "verifier vocab_size 1024"),
    ] {
      let parent = try TestPaths.temporaryDirectory()
      let verifier = parent.appendingPathComponent("verifier")
      try FileManager.default.createDirectory(at: verifier, withIntermediateDirectories: true)
      let config = try String(
        contentsOf: TestPaths.fixtures.appendingPathComponent("verifier/config.json"), encoding: .utf8)
      let changed = config.replacingOccurrences(
        of: "\"\(key)\": \(key == "hidden_size" ? "64" : "512")", with: "\"\(key)\": \(value)")
      #expect(changed != config)
      try changed.write(
        to: verifier.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
      for (draft, algorithm) in [("Fixtures/eagle1-bin", "eagle"), ("Fixtures/eagle3-embed", "eagle3")] {
        try refuses(
          key == "hidden_size" && algorithm == "eagle3" ? "fc.weight" : reason,
          [
            draft, "--algorithm", algorithm, "--verifier", verifier.path,
          ])
      }
    }
  }

  @Test("unknown kwarg and malformed kwargs are usage errors; with --algorithm auto, once detected")
  func kwargs() throws {
    try refuses(
      "error: --algorithm-kwargs: unknown eagle kwarg 'norm_before_residual' (valid: fusion_bias, layernorms) (see --help)",
      [
        "Fixtures/eagle1-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
        "--algorithm-kwargs", #"{"norm_before_residual": true}"#,
      ])
    try refuses(
      "error: The value '{oops' is invalid for '--algorithm-kwargs <json>': offset 1: invalid JSON: ",
      [
        "Fixtures/eagle1-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
        "--algorithm-kwargs", "{oops",
      ])
    try refuses(
      "error: Fixtures/eagle1-bin: --algorithm-kwargs: unknown eagle kwarg 'norm_before_residual' (valid: fusion_bias, layernorms)\n",
      [
        "Fixtures/eagle1-bin", "--algorithm", "auto", "--verifier", "Fixtures/verifier",
        "--algorithm-kwargs", #"{"norm_before_residual": true}"#,
      ])
  }

  @Test("the output path is a file")
  func outputIsFile() throws {
    let parent = try TestPaths.temporaryDirectory()
    let file = parent.appendingPathComponent("out")
    try "x".write(to: file, atomically: false, encoding: .utf8)
    let result = try speculators([
      "convert", "Fixtures/eagle1-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
      "--output-path", file.path,
      "--force",
    ])
    #expect(result.status == 2)
    #expect(result.stderr == "error: \(file.path): the output path exists and is not a directory\n")
    #expect(try String(contentsOf: file, encoding: .utf8) == "x")
    #expect(contents(parent) == ["out"])
  }

  @Test("a disk write failure (file-size limit) leaves nothing behind")
  func writeFailure() throws {
    try refuses(
      "model.safetensors: cannot write: File too large",
      ["Fixtures/eagle3-embed", "--algorithm", "eagle3", "--verifier", "Fixtures/verifier"],
      fileSizeLimitBlocks: 64)
  }

  @Test("an unknown --dtype is refused (overflowing casts: ConvertTests)")
  func unknownDType() throws {
    try refuses(
      "'float8' is not a float dtype; use float32 (fp32, f32, float), float16 (fp16, f16, half) or bfloat16 (bf16)",
      [
        "Fixtures/hass-layernorms", "--algorithm", "eagle", "--verifier", "Fixtures/verifier", "--dtype",
        "float8",
      ])
  }
}

@Suite("convert: other producers the detector recognises", .enabled(if: readersAvailable, "checkpoint readers are not built in this tree"))
struct ConvertOtherProducersTests {
  @Test(
    "ModelOpt (d2t only) and NeMo (model.-prefixed, full-vocab head) EAGLE-3 drafts convert",
    arguments: [
      ("modelopt-v1", "eagle3-modelopt-v1", 128), ("modelopt-v2", "eagle3-modelopt-v2", 128),
      ("eagle3-prefixed", "eagle3-nemo", 512),
    ])
  func converts(name: String, format: String, draftVocab: Int) throws {
    let output = try TestPaths.temporaryDirectory().appendingPathComponent("out")
    let result = try speculators([
      "convert", "Fixtures/\(name)", "--algorithm", "auto", "--verifier", "Fixtures/verifier", "--output-path",
      output.path, "--validate-device", "cpu",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let manifest = try AuditManifest(contentsOf: output.appendingPathComponent("speculators-manifest.json").path)
    #expect(manifest.source.format == format)
    #expect(manifest.dropped.isEmpty)
    let source = try expectedTensors(name)
    for tensor in manifest.tensors where tensor.source.origin == .draft {
      #expect(tensor.xxh3 == source[tensor.source.name ?? ""]?.xxh3, "\(tensor.name)")
    }
    #expect(manifest.tensors.contains { $0.name == "layers.0.hidden_norm.weight" })
    let config = try json(output.appendingPathComponent("config.json"))
    #expect(config["draft_vocab_size"]?.intValue == draftVocab)
    #expect(config["transformer_layer_config"]?["vocab_size"] == 512)
  }

  @Test("formats with no EAGLE equivalent are refused with the detector's reason")
  func refused() throws {
    let parent = try TestPaths.temporaryDirectory()
    let result = try speculators([
      "convert", "Fixtures/medusa", "--algorithm", "auto", "--verifier", "Fixtures/verifier", "--output-path",
      parent.appendingPathComponent("out").path,
    ])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("error: Fixtures/medusa: cannot convert: medusa"))
    #expect(contents(parent).isEmpty)
  }
}
