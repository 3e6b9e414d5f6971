import Foundation
import Inspect
import Testing

/// Writes a small checkpoint into a fresh temporary directory.
enum InspectSample {
  /// safetensors bytes for F32 tensors of `count` elements each, named `names`.
  static func safetensors(_ names: [String], count: Int = 4, dtype: String = "F32", bytesPerElement: Int = 4) -> Data {
    var entries = [#""__metadata__":{"format":"pt"}"#]
    var offset = 0
    for name in names {
      let end = offset + count * bytesPerElement
      entries.append(#""\#(name)":{"dtype":"\#(dtype)","shape":[2,\#(count / 2)],"data_offsets":[\#(offset),\#(end)]}"#)
      offset = end
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
    bytes += header
    bytes += [UInt8](repeating: 0, count: offset)
    return Data(bytes)
  }

  static let config = """
    {"architectures": ["Eagle3Speculator"], "speculators_model_type": "eagle3", "draft_vocab_size": 128,
     "transformer_layer_config": {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 1,
       "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512, "torch_dtype": "bfloat16"}}
    """

  /// A directory with config.json and one model.safetensors.
  static func singleFile() throws -> URL {
    let directory = try TestPaths.temporaryDirectory()
    try safetensors(["fc.weight", "layers.0.mlp.down_proj.weight", "d2t"])
      .write(to: directory.appendingPathComponent("model.safetensors"))
    try Data(config.utf8).write(to: directory.appendingPathComponent("config.json"))
    return directory
  }

  /// A directory with two bf16 shards and an index, no config.
  static func sharded() throws -> URL {
    let directory = try TestPaths.temporaryDirectory()
    try safetensors(["embed_tokens.weight"], count: 8, dtype: "BF16", bytesPerElement: 2)
      .write(to: directory.appendingPathComponent("model-00001-of-00002.safetensors"))
    try safetensors(["lm_head.weight", "norm.weight"], dtype: "BF16", bytesPerElement: 2)
      .write(to: directory.appendingPathComponent("model-00002-of-00002.safetensors"))
    try Data("""
      {"metadata": {"total_size": 32}, "weight_map": {"embed_tokens.weight": "model-00001-of-00002.safetensors",
       "lm_head.weight": "model-00002-of-00002.safetensors", "norm.weight": "model-00002-of-00002.safetensors"}}
      """.utf8).write(to: directory.appendingPathComponent("model.safetensors.index.json"))
    return directory
  }
}

/// Validates a JSON document against a schema in `schemas/` with the system python3's
/// `jsonschema` (present on the CI image).
enum SchemaValidator {
  /// The first python3 (on PATH, then /usr/bin) that can import jsonschema, if any.
  static let python: [String]? = {
    for candidate in [["/usr/bin/env", "python3"], ["/usr/bin/python3"]]
    where FileManager.default.isExecutableFile(atPath: candidate[0]) {
      if (try? run(candidate, ["-c", "import jsonschema"]).status) == 0 { return candidate }
    }
    return nil
  }()

  /// Whether a python3 with jsonschema was found.
  static var available: Bool { python != nil }

  /// Validates `document` against `schemas/<schema>`; returns the validator's complaint, or
  /// `nil` when the document is valid.
  static func problems(_ document: String, schema: String) throws -> String? {
    let schemaPath = TestPaths.packageRoot.appendingPathComponent("schemas/\(schema)").path
    let documentURL = try TestPaths.temporaryDirectory().appendingPathComponent("document.json")
    try Data(document.utf8).write(to: documentURL)
    let script = """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1]))
      jsonschema.Draft202012Validator.check_schema(schema)
      jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
      """
    let result = try run(python ?? ["/usr/bin/env", "python3"], ["-c", script, schemaPath, documentURL.path])
    return result.status == 0 ? nil : result.stderr
  }

  private static func run(_ command: [String], _ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst()) + arguments
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}

@Suite struct InspectCommandTests {
  @Test func inspectsADirectoryForHumans() throws {
    let directory = try InspectSample.singleFile()
    let result = try runSpeculators(["inspect", directory.path], environment: ["COLUMNS": "80"])
    #expect(result.status == 0)
    #expect(result.stderr.isEmpty)
    let out = result.stdout
    #expect(out.hasPrefix(directory.path + "\n  2 files, 3 tensors, 12 parameters, 48 B\n"))
    #expect(out.contains("Files\n  name               kind          size\n  config.json        config"))
    #expect(out.contains("  speculators_model_type  eagle3\n"))
    #expect(out.contains("  hidden_size             64\n"))
    #expect(out.contains("  model.safetensors: format=pt\n"))
    #expect(out.contains("Tensors (3)\n"))
    #expect(out.contains("  layers.0.mlp.down_proj.weight  F32    [2, 2]       4  16 B\n"))
    #expect(out.contains("By dtype\n  dtype  tensors  params  size\n  F32          3      12  48 B\n"))
    #expect(out.split(separator: "\n").allSatisfy { $0.count <= 80 })
    #expect(!out.contains("\u{1B}["))
  }

  @Test func inspectsAFileAsJSON() throws {
    let directory = try InspectSample.singleFile()
    let path = directory.appendingPathComponent("model.safetensors").path
    let result = try runSpeculators(["inspect", path, "--json"])
    #expect(result.status == 0)
    let json = try StrictJSONParser.parse(Array(result.stdout.utf8))
    #expect(json["location"] == .string(path))
    #expect(json["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["config.json", "model.safetensors"])
    #expect(json["config"]?["hidden_size"] == 64)
    #expect(json["config"]?["draft_vocab_size"] == 128)
    #expect(json["detection"]?["format"] == "speculators-eagle3")
    #expect(json["detection"]?["algorithm"] == .null)
    let tensors = try #require(json["tensors"]?.arrayValue)
    #expect(tensors.compactMap { $0["name"]?.stringValue } == ["d2t", "fc.weight", "layers.0.mlp.down_proj.weight"])
    #expect(tensors[0]["shape"] == [2, 2])
    #expect(tensors[0]["bytes"] == 16)
    #expect(tensors[0]["file"] == "model.safetensors")
    #expect(json["totals"] == ["tensors": 3, "parameters": 12, "bytes": 48])
    #expect(json["dtypes"] == [["dtype": "F32", "tensors": 3, "parameters": 12, "bytes": 48]])
  }

  @Test("the human tensor table lists layers.2 before layers.10; the JSON keeps byte order")
  func humanTableIsInNaturalOrder() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try InspectSample.safetensors(["layers.10.w", "layers.2.w", "layers.1.w", "fc.weight"])
      .write(to: directory.appendingPathComponent("model.safetensors"))
    let human = try runSpeculators(["inspect", directory.path])
    #expect(human.status == 0, "\(human.stderr)")
    let rows = human.stdout.split(separator: "\n").compactMap { line -> String? in
      let name = line.split(separator: " ").first.map(String.init) ?? ""
      return name.hasPrefix("layers.") || name == "fc.weight" ? name : nil
    }
    #expect(rows == ["fc.weight", "layers.1.w", "layers.2.w", "layers.10.w"])
    let json = try runSpeculators(["inspect", directory.path, "--json"])
    let value = try StrictJSONParser.parse(Array(json.stdout.utf8))
    #expect(
      value["tensors"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        == ["fc.weight", "layers.1.w", "layers.10.w", "layers.2.w"])
  }

  @Test func inspectsAShardedCheckpoint() throws {
    let directory = try InspectSample.sharded()
    let human = try runSpeculators(["inspect", directory.path])
    #expect(human.status == 0)
    #expect(human.stdout.contains("Config\n  no config.json\n"))
    #expect(human.stdout.contains("  embed_tokens.weight  BF16   [2, 4]       8  16 B  model-00001-of-00002.safetensors\n"))
    let json = try runSpeculators(["inspect", directory.appendingPathComponent("model.safetensors.index.json").path, "--json"])
    #expect(json.status == 0)
    let value = try StrictJSONParser.parse(Array(json.stdout.utf8))
    #expect(value["totals"] == ["tensors": 3, "parameters": 16, "bytes": 32])
    #expect(value["config"] == .null)
    #expect(value["files"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } == ["safetensors", "safetensors", "index"])
  }

  @Test(
    .enabled(if: SchemaValidator.available, "system python3 with jsonschema is not installed"),
    arguments: ["single", "file", "sharded"])
  func jsonOutputMatchesTheSchema(sample: String) throws {
    let path: String
    switch sample {
    case "single": path = try InspectSample.singleFile().path
    case "file": path = try InspectSample.singleFile().appendingPathComponent("model.safetensors").path
    default: path = try InspectSample.sharded().path
    }
    let result = try runSpeculators(["inspect", path, "--json"])
    #expect(result.status == 0)
    let problems = try SchemaValidator.problems(result.stdout, schema: "inspect-report.schema.json")
    #expect(problems == nil, "\(problems ?? "")")
  }

  @Test(.enabled(if: SchemaValidator.available, "system python3 with jsonschema is not installed"))
  func schemaRejectsADocumentMissingTotals() throws {
    let result = try runSpeculators(["inspect", try InspectSample.singleFile().path, "--json"])
    let withoutTotals = JSONWriter.pretty(try StrictJSONParser.parse(Array(result.stdout.utf8)).removing("totals"))
    #expect(try SchemaValidator.problems(withoutTotals, schema: "inspect-report.schema.json")?.contains("totals") == true)
  }

  @Test func helpHasExamples() throws {
    let result = try runSpeculators(["inspect", "--help"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("Examples:"))
    #expect(result.stdout.contains("speculators inspect ./eagle3-draft"))
    #expect(result.stdout.contains("--json"))
  }

  @Test func missingPathIsExitTwoWithOneLine() throws {
    let result = try runSpeculators(["inspect", "/nonexistent/draft"])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("error: /nonexistent/draft: no such file or directory"))
    #expect(result.stderr.split(separator: "\n").count == 1)
  }

  @Test func missingArgumentIsAUsageError() throws {
    let result = try runSpeculators(["inspect"])
    #expect(result.status == 64 || result.status == 2)
    #expect(result.stderr.contains("<path>"))
  }
}

/// `speculators inspect` on the real fixtures (written by torch / safetensors / transformers).
@Suite struct InspectFixturesTests {
  /// Fixture directories whose weights are safetensors (readable without the torch reader).
  static let safetensorsCases = [
    "verifier", "eagle-safetensors", "eagle3-embed", "eagle3-2layer", "eagle3-prefixed", "modelopt-v1",
    "modelopt-v2", "medusa", "mlp-speculator", "speculators-eagle", "speculators-eagle3", "reference/eagle3-bin",
  ]

  @Test func showsTheShardedVerifier() throws {
    let result = try runSpeculators(["inspect", TestPaths.fixtures.appendingPathComponent("verifier").path])
    #expect(result.status == 0)
    #expect(result.stderr.isEmpty)
    #expect(result.stdout.contains("\n  5 files, 39 tensors, 213,568 parameters (213.6K), 417.1 KiB\n"))
    #expect(result.stdout.contains("  model.safetensors.index.json      index                3.2 KiB\n"))
    #expect(result.stdout.contains("  num_hidden_layers    4\n"))
    let embed = result.stdout.split(separator: "\n").first { $0.hasPrefix("  model.embed_tokens.weight ") }
    #expect(embed?.split(separator: " ") == [
      "model.embed_tokens.weight", "BF16", "[512,", "64]", "32.8K", "64.0", "KiB", "model-00001-of-00002.safetensors",
    ])
  }

  @Test(arguments: safetensorsCases)
  func jsonMatchesTheGroundTruth(name: String) throws {
    let directory = TestPaths.fixtures.appendingPathComponent(name)
    let result = try runSpeculators(["inspect", directory.path, "--json"])
    #expect(result.status == 0)
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    let truthData = try #require(
      FileManager.default.contents(atPath: TestPaths.fixtures.appendingPathComponent("expected/\(name).json").path))
    let truth = try StrictJSONParser.parse(Array(truthData))
    let tensors = try #require(report["tensors"]?.arrayValue)
    #expect(tensors.count == truth["tensor_count"]?.intValue)
    for tensor in tensors {
      let tensorName = try #require(tensor["name"]?.stringValue)
      let expected = try #require(truth["tensors"]?[tensorName], "\(tensorName)")
      #expect(tensor["dtype"] == expected["dtype"])
      #expect(tensor["shape"] == expected["shape"])
      #expect(tensor["bytes"] == expected["byte_count"])
      #expect(tensor["file"] == expected["file"])
    }
    #expect(report["files"]?.arrayValue?.compactMap { $0["size"]?.intValue }
      == truth["files"]?.arrayValue?.compactMap { $0["size"]?.intValue })
    if SchemaValidator.available {
      let problems = try SchemaValidator.problems(result.stdout, schema: "inspect-report.schema.json")
      #expect(problems == nil, "\(problems ?? "")")
    }
  }
}

/// Every committed hostile fixture through the CLI: exit 2, nothing on stdout, one line on
/// stderr naming the file and carrying the expected reason.
@Suite struct InspectHostileFixturesTests {
  static let directory = TestPaths.fixtures.appendingPathComponent("hostile/safetensors")

  static let expected: [(name: String, reason: String)] = {
    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("expected.json").path),
      let members = (try? StrictJSONParser.parse(Array(data)))?.objectMembers
    else { return [] }
    return members.compactMap { member in member.value.stringValue.map { (member.key, $0) } }
  }()

  @Test func fixturesArePresent() {
    #expect(Self.expected.count >= 25)
  }

  @Test(arguments: expected.map(\.name))
  func inspectExitsTwoWithOneLine(name: String) throws {
    let reason = try #require(Self.expected.first { $0.name == name }?.reason)
    let path = Self.directory.appendingPathComponent(name).path
    for arguments in [["inspect", path], ["inspect", path, "--json"]] {
      let result = try runSpeculators(arguments)
      #expect(result.status == 2)
      #expect(result.stdout.isEmpty)
      #expect(result.stderr.hasPrefix("error: " + path))
      #expect(result.stderr.contains(reason), "got: \(result.stderr)")
      #expect(result.stderr.hasSuffix("\n"))
      #expect(result.stderr.dropLast().contains("\n") == false)
    }
  }
}
