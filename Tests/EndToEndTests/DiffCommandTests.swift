import Foundation
import Inspect
import Testing

/// `speculators diff` on the committed fixtures and on variants of them made by the tests.
@Suite struct DiffCommandTests {
  private static func fixture(_ name: String) -> String {
    TestPaths.fixtures.appendingPathComponent(name).path
  }

  /// A copy of fixture directory `name` in a fresh temporary directory.
  private static func copy(_ name: String) throws -> URL {
    let target = try TestPaths.temporaryDirectory().appendingPathComponent(URL(fileURLWithPath: name).lastPathComponent)
    try FileManager.default.copyItem(at: TestPaths.fixtures.appendingPathComponent(name), to: target)
    return target
  }

  private static func json(_ result: CommandResult) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    return try #require(object as? [String: Any])
  }

  private static func tensors(_ report: [String: Any]) -> [[String: Any]] {
    report["tensors"] as? [[String: Any]] ?? []
  }

  /// Checks `document` against `schemas/diff-report.schema.json` with Python's jsonschema.
  private static func expectValidAgainstSchema(_ document: String) throws {
    let schema = TestPaths.packageRoot.appendingPathComponent("schemas/diff-report.schema.json").path
    let scratch = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let file = scratch.appendingPathComponent("report.json")
    try Data(document.utf8).write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", "-c",
      "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
      schema, file.path,
    ]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    process.waitUntilExit()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 0, "schema validation failed: \(message.suffix(600))")
  }

  @Test func identicalConversionsExitZeroAndSayIdentical() throws {
    let copy = try Self.copy("reference/eagle3-embed")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let result = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("identical: tensors 16 identical"))
    let json = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path, "--json"])
    #expect(json.status == 0)
    let report = try Self.json(json)
    #expect((report["summary"] as? [String: Any])?["result"] as? String == "identical")
    #expect(Self.tensors(report).allSatisfy { $0["status"] as? String == "identical" })
    try Self.expectValidAgainstSchema(json.stdout)
  }

  @Test func aLowerPrecisionCopyOfAConversionIsEqualByValue() throws {
    // reference/eagle3-embed holds F32 values that came from BF16, so a BF16 copy is exact.
    let copy = try Self.copy("reference/eagle3-embed")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let weights = copy.appendingPathComponent("model.safetensors").path
    try SafetensorsRewriter.rewrite(weights) { tensor, bytes in
      guard tensor.dtype == .F32 else { return (tensor.name, tensor.dtype, bytes) }
      var narrowed: [UInt8] = []
      narrowed.reserveCapacity(bytes.count / 2)
      for offset in stride(from: 0, to: bytes.count, by: 4) { narrowed += bytes[offset + 2..<offset + 4] }
      return (tensor.name, .BF16, narrowed)
    }
    let exact = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path, "--json"])
    #expect(exact.status == 1, "\(exact.stderr)")
    let report = try Self.json(exact)
    let floats = Self.tensors(report).filter { ($0["a"] as? [String: Any])?["dtype"] as? String == "F32" }
    #expect(floats.count == 14)
    #expect(floats.allSatisfy { $0["status"] as? String == "equal-values" })
    #expect((report["summary"] as? [String: Any])?["dtype_changes"] as? Int == 14)
    try Self.expectValidAgainstSchema(exact.stdout)
    let byValue = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path, "--values"])
    #expect(byValue.status == 0, "\(byValue.stdout)")
    #expect(byValue.stdout.contains("tensors 2 identical, 14 equal in value; 14 dtype changes"))
  }

  @Test func onePerturbedElementIsFoundWithItsIndexAndMagnitude() throws {
    let copy = try Self.copy("reference/eagle3-embed")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let weights = copy.appendingPathComponent("model.safetensors").path
    // layers.0.mlp.down_proj.weight is F32 [64, 128]; add 0.5 to element [17, 42], in place.
    let tensor = try #require(try CheckpointReader.open(weights).tensor(named: "layers.0.mlp.down_proj.weight"))
    guard case .contiguous(let start, _) = tensor.layout else {
      Issue.record("expected a contiguous tensor")
      return
    }
    let offset = start + (17 * 128 + 42) * 4
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: weights)))
    let bits = bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    let value = Float(bitPattern: bits) + 0.5
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
    try Data(bytes).write(to: URL(fileURLWithPath: weights))
    let text = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path])
    #expect(text.status == 1)
    #expect(text.stdout.contains("~ layers.0.mlp.down_proj.weight  F32 [64, 128]: 1 of 8192 elements differ"))
    #expect(text.stdout.contains("max |a-b| 0.5 at [17, 42]"))
    #expect(text.stdout.hasSuffix("different: tensors 15 identical, 1 differs\n"))
    let json = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path, "--json"])
    let changed = try #require(Self.tensors(try Self.json(json)).first { $0["status"] as? String == "different" })
    let statistics = try #require(changed["statistics"] as? [String: Any])
    #expect(statistics["max_abs_diff_index"] as? [Int] == [17, 42])
    #expect(statistics["max_abs_diff_flat_index"] as? Int == 17 * 128 + 42)
    #expect(statistics["beyond_tolerance"] as? Int == 1)
    #expect(abs((statistics["max_abs_diff"] as? Double ?? 0) - 0.5) < 1e-6)
    try Self.expectValidAgainstSchema(json.stdout)
  }

  @Test func aRenamedTensorIsOnlyInAAndOnlyInB() throws {
    let copy = try Self.copy("reference/eagle3-embed")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    try SafetensorsRewriter.rewrite(copy.appendingPathComponent("model.safetensors").path) { tensor, bytes in
      (tensor.name == "norm.weight" ? "final_norm.weight" : tensor.name, tensor.dtype, bytes)
    }
    let result = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path, "--json"])
    #expect(result.status == 1)
    let changed = Self.tensors(try Self.json(result)).filter { $0["status"] as? String != "identical" }
    #expect(changed.map { $0["name"] as? String } == ["final_norm.weight", "norm.weight"])
    #expect(changed.map { $0["status"] as? String } == ["only-in-b", "only-in-a"])
    // The summary line is the text's last line and the JSON's summary.line.
    let line = "different: files 1 difference (1 not counted); tensors 15 identical, 1 only in A, 1 only in B"
    #expect((try Self.json(result)["summary"] as? [String: Any])?["line"] as? String == line)
    let text = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path])
    #expect(text.stdout.hasSuffix("\n" + line + "\n"), "\(text.stdout)")
  }

  @Test func aChangedConfigKeyIsReportedByPath() throws {
    let copy = try Self.copy("reference/eagle3-embed")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let config = copy.appendingPathComponent("config.json")
    let text = try String(contentsOf: config, encoding: .utf8)
    try text.replacingOccurrences(of: "\"rope_theta\": 500000.0", with: "\"rope_theta\": 10000.0")
      .write(to: config, atomically: true, encoding: .utf8)
    let result = try runSpeculators(["diff", Self.fixture("reference/eagle3-embed"), copy.path])
    #expect(result.status == 1)
    #expect(result.stdout.contains("~ $.transformer_layer_config.rope_theta: 500000.0 -> 10000.0"))
    #expect(result.stdout.hasSuffix("different: config 1 difference; tensors 16 identical\n"))
  }

  @Test func anExtraShardIsReportedWithItsTensor() throws {
    let copy = try Self.copy("verifier")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let extra = copy.appendingPathComponent("model-extra.safetensors").path
    try SafetensorsRewriter.write([("extra.weight", .BF16, [4], [0, 0x3F, 0x80, 0x3F, 0, 0x40, 0x40, 0x40])], to: extra)
    let index = copy.appendingPathComponent("model.safetensors.index.json")
    var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any])
    var map = try #require(json["weight_map"] as? [String: String])
    map["extra.weight"] = "model-extra.safetensors"
    json["weight_map"] = map
    try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]).write(to: index)
    let result = try runSpeculators(["diff", Self.fixture("verifier"), copy.path, "--json"])
    #expect(result.status == 1, "\(result.stderr)")
    let report = try Self.json(result)
    let files = report["files"] as? [[String: Any]] ?? []
    #expect(files.map { $0["name"] as? String } == ["model-extra.safetensors", "model.safetensors.index.json"])
    #expect(files.map { $0["change"] as? String } == ["only-in-b", "size-changed"])
    let changed = Self.tensors(report).filter { $0["status"] as? String != "identical" }
    #expect(changed.map { $0["name"] as? String } == ["extra.weight"])
    #expect((changed.first?["b"] as? [String: Any])?["file"] as? String == "model-extra.safetensors")
    try Self.expectValidAgainstSchema(result.stdout)
  }

  // (source case, counterparts, dropped by the conversion, added by the conversion)
  @Test(arguments: [
    ("eagle3-embed", 16, 0, 0), ("eagle-safetensors", 9, 1, 0), ("eagle3-bin", 15, 0, 1), ("eagle1-bin", 10, 1, 0),
    ("hass-layernorms", 12, 1, 0),
  ])
  func aSourceAgainstItsConversionPairsEveryCounterpart(source: String, counterparts: Int, dropped: Int, added: Int)
    throws
  {
    let result = try runSpeculators(
      ["diff", Self.fixture(source), Self.fixture("reference/\(source)"), "--values", "--json"])
    #expect(result.status == 1, "configs differ: \(result.stderr)")
    let report = try Self.json(result)
    #expect((report["mapping"] as? [String: Any])?["applied"] as? Bool == true)
    let tensors = Self.tensors(report)
    let paired = tensors.filter { $0["a"] is [String: Any] && $0["b"] is [String: Any] }
    #expect(paired.count == counterparts)
    #expect(paired.allSatisfy { ["identical", "equal-values"].contains($0["status"] as? String ?? "") })
    #expect(tensors.filter { $0["status"] as? String == "dropped" }.count == dropped)
    #expect(tensors.filter { $0["status"] as? String == "added" }.count == added)
    #expect(tensors.count == counterparts + dropped + added)
    try Self.expectValidAgainstSchema(result.stdout)
    let text = try runSpeculators(["diff", Self.fixture(source), Self.fixture("reference/\(source)")])
    #expect(text.stdout.contains("Pairing: "))
    #expect(text.stdout.contains("(A is the source)"))
  }

  @Test func theReferenceConvertersDroppedSecondLayerShowsAsOnlyInTheSource() throws {
    // speculators 0.1.0 keeps one decoder layer: every layers.1.* tensor of the source is lost.
    let result = try runSpeculators(
      ["diff", Self.fixture("eagle3-2layer"), Self.fixture("reference/eagle3-2layer"), "--values", "--json"])
    let tensors = Self.tensors(try Self.json(result))
    let onlyInA = tensors.filter { $0["status"] as? String == "only-in-a" }.compactMap { $0["name"] as? String }
    #expect(onlyInA.count == 9)
    #expect(onlyInA.allSatisfy { $0.hasPrefix("layers.1.") })
    #expect(tensors.filter { $0["a"] is [String: Any] && $0["b"] is [String: Any] }.count == 16)
  }

  @Test func withoutMappingSourceNamesAreOnlyInA() throws {
    let result = try runSpeculators(
      ["diff", Self.fixture("eagle3-embed"), Self.fixture("reference/eagle3-embed"), "--mapping", "none", "--json"])
    let onlyInA = Self.tensors(try Self.json(result)).filter { $0["status"] as? String == "only-in-a" }
    #expect(onlyInA.count == 10)
    #expect(onlyInA.allSatisfy { ($0["name"] as? String ?? "").hasPrefix("midlayer.") })
  }

  /// Converts fixture `source` with `speculators convert` into a fresh directory.
  private static func convert(_ source: String, _ extra: [String] = []) throws -> URL {
    let output = try TestPaths.temporaryDirectory().appendingPathComponent("converted")
    let result = try runSpeculators(
      ["convert", fixture(source), "--algorithm", "auto", "--verifier", fixture("verifier"), "--output-path", output.path]
        + extra)
    #expect(result.status == 0, "convert failed: \(result.stderr)")
    return output
  }

  @Test func twoConversionsOfTheSameDraftAreIdentical() throws {
    let first = try Self.convert("eagle3-embed")
    defer { try? FileManager.default.removeItem(at: first.deletingLastPathComponent()) }
    let second = try Self.convert("eagle3-embed")
    defer { try? FileManager.default.removeItem(at: second.deletingLastPathComponent()) }
    let result = try runSpeculators(["diff", first.path, second.path])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    // The manifests record different output paths: listed, volatile, not a difference.
    #expect(result.stdout.contains("~ $.options.output_path: "))
    #expect(result.stdout.hasSuffix("identical: manifest 1 difference (1 volatile); tensors 16 identical\n"))
  }

  @Test func halfAndSinglePrecisionConversionsOfOneDraftAreEqualByValue() throws {
    // eagle1-bin is an fp16 draft: converted as is, and with --dtype float32.
    let half = try Self.convert("eagle1-bin")
    defer { try? FileManager.default.removeItem(at: half.deletingLastPathComponent()) }
    let single = try Self.convert("eagle1-bin", ["--dtype", "float32"])
    defer { try? FileManager.default.removeItem(at: single.deletingLastPathComponent()) }
    let result = try runSpeculators(["diff", half.path, single.path, "--values", "--json"])
    let report = try Self.json(result)
    let tensors = Self.tensors(report)
    #expect(tensors.count == 10)
    #expect(tensors.allSatisfy { $0["status"] as? String == "equal-values" })
    #expect(tensors.allSatisfy { ($0["statistics"] as? [String: Any])?["max_abs_diff"] as? Double == 0 })
    // What else differs is what the options changed, each reported exactly.
    let config = (report["config"] as? [String: Any])?["differences"] as? [[String: Any]] ?? []
    #expect(config.map { $0["path"] as? String } == ["$.torch_dtype"])
    let manifest = (report["manifest"] as? [String: Any])?["differences"] as? [[String: Any]] ?? []
    #expect(manifest.map { $0["path"] as? String } == ["$.options.dtype", "$.options.output_path"])
    #expect(result.status == 1)
    try Self.expectValidAgainstSchema(result.stdout)
  }

  @Test func aConversionAgainstItsManifestIsIdentical() throws {
    let converted = try Self.convert("eagle3-embed")
    defer { try? FileManager.default.removeItem(at: converted.deletingLastPathComponent()) }
    let manifest = converted.appendingPathComponent("speculators-manifest.json").path
    let result = try runSpeculators(["diff", converted.path, manifest])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("Tensors: 16 (16 identical by digest)"))
    #expect(result.stdout.hasSuffix("identical: tensors 16 identical\n"))
    let json = try runSpeculators(["diff", manifest, converted.path, "--json"])
    #expect(json.status == 0)
    let report = try Self.json(json)
    #expect((report["a"] as? [String: Any])?["kind"] as? String == "manifest")
    #expect((report["config"] as? [String: Any])?["compared"] as? Bool == false)
    try Self.expectValidAgainstSchema(json.stdout)
  }

  @Test func aTensorChangedAfterConversionDisagreesWithTheManifest() throws {
    let converted = try Self.convert("eagle3-embed")
    defer { try? FileManager.default.removeItem(at: converted.deletingLastPathComponent()) }
    let weights = converted.appendingPathComponent("model.safetensors").path
    let tensor = try #require(try CheckpointReader.open(weights).tensor(named: "norm.weight"))
    guard case .contiguous(let offset, _) = tensor.layout else {
      Issue.record("expected a contiguous tensor")
      return
    }
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: weights)))
    bytes[offset] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: weights))
    let result = try runSpeculators(
      ["diff", converted.path, converted.appendingPathComponent("speculators-manifest.json").path, "--json"])
    #expect(result.status == 1)
    let changed = Self.tensors(try Self.json(result)).filter { $0["status"] as? String != "identical" }
    #expect(changed.map { $0["name"] as? String } == ["norm.weight"])
    #expect(changed.first?["note"] as? String == "digests differ; a manifest holds no values")
  }

  @Test func aSourceAgainstItsConversionsManifestUsesTheRecordedRenames() throws {
    let converted = try Self.convert("eagle3-bin")
    defer { try? FileManager.default.removeItem(at: converted.deletingLastPathComponent()) }
    let manifest = converted.appendingPathComponent("speculators-manifest.json").path
    let result = try runSpeculators(["diff", Self.fixture("eagle3-bin"), manifest, "--json"])
    let report = try Self.json(result)
    #expect((report["mapping"] as? [String: Any])?["basis"] as? String == "manifest")
    let tensors = Self.tensors(report)
    let paired = tensors.filter { $0["a"] is [String: Any] && $0["b"] is [String: Any] }
    #expect(paired.count == 15)
    #expect(paired.allSatisfy { $0["status"] as? String == "identical" })
    let added = tensors.filter { $0["status"] as? String == "added" }
    #expect(added.map { $0["name"] as? String } == ["embed_tokens.weight"])
    // The source directory is not its conversion (other files), so the verdict is "different".
    #expect(result.status == 1)
  }

  @Test func unreadableInputIsAnInputError() throws {
    let missing = try runSpeculators(["diff", "/nonexistent/draft", Self.fixture("reference/eagle3-embed")])
    #expect(missing.status == 2)
    #expect(missing.stderr.hasPrefix("error: /nonexistent/draft: "))
    #expect(missing.stdout.isEmpty)
    let tolerance = try runSpeculators(
      ["diff", Self.fixture("reference/eagle3-embed"), Self.fixture("reference/eagle3-embed"), "--rtol=-1"])
    #expect(tolerance.status == 2)
    #expect(tolerance.stderr.contains("--rtol must be a finite number >= 0"))
  }

  @Test func helpShowsExamples() throws {
    let result = try runSpeculators(["diff", "--help"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("speculators diff converted/ published/"))
    #expect(result.stdout.contains("--mapping"))
  }
}

/// Rewrites safetensors files tensor by tensor (names, dtypes and bytes), keeping the metadata.
enum SafetensorsRewriter {
  typealias Tensor = (name: String, dtype: DType, shape: [Int], bytes: [UInt8])

  static func rewrite(_ path: String, _ transform: (TensorInfo, [UInt8]) throws -> (String, DType, [UInt8])) throws {
    let checkpoint = try CheckpointReader.open(path)
    let reader = TensorReader()
    var tensors: [Tensor] = []
    for tensor in checkpoint.tensors {
      let (name, dtype, bytes) = try transform(tensor, try reader.bytes(of: tensor))
      tensors.append((name, dtype, tensor.shape, bytes))
    }
    try write(tensors, to: path + ".new")
    try FileManager.default.removeItem(atPath: path)
    try FileManager.default.moveItem(atPath: path + ".new", toPath: path)
  }

  static func write(_ tensors: [Tensor], to path: String) throws {
    var header: [(key: String, value: JSONValue)] = [("__metadata__", .object([("format", "pt")]))]
    var offset = 0
    for tensor in tensors.sorted(by: { $0.name < $1.name }) {
      header.append(
        (
          tensor.name,
          .object([
            ("dtype", .string(tensor.dtype.rawValue)), ("shape", .array(tensor.shape.map { .int(Int64($0)) })),
            ("data_offsets", .array([.int(Int64(offset)), .int(Int64(offset + tensor.bytes.count))])),
          ])
        ))
      offset += tensor.bytes.count
    }
    var json = Array(JSONWriter.compact(.object(header)).utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    var data = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json
    for tensor in tensors.sorted(by: { $0.name < $1.name }) { data += tensor.bytes }
    try Data(data).write(to: URL(fileURLWithPath: path))
  }
}
