import Foundation
import Inspect
import Testing

/// Whether the checkpoint reader can open the fixtures (end-to-end verify/hash need it).
enum VerifyE2E {
  static var readerAvailable: Bool {
    (try? CheckpointReader.open(TestPaths.fixtures.appendingPathComponent("verifier").path)) != nil
  }

  static var verifier: String { TestPaths.fixtures.appendingPathComponent("verifier").path }
  /// The check vLLM's default taps fail on the 4-layer fixture verifier (2, 2, 1 repeat a layer).
  static let defaultTaps = "verifier.default-taps"

  static func fixture(_ name: String) -> String { TestPaths.fixtures.appendingPathComponent(name).path }

  /// A copy of a fixture directory in a fresh temporary directory.
  static func copy(_ name: String) throws -> URL {
    let root = try TestPaths.temporaryDirectory()
    let destination = root.appendingPathComponent(URL(fileURLWithPath: name).lastPathComponent)
    try FileManager.default.copyItem(at: TestPaths.fixtures.appendingPathComponent(name), to: destination)
    return destination
  }

  /// Edits a copied checkpoint's config.json.
  static func editConfig(_ directory: URL, _ edit: (JSONValue) -> JSONValue) throws {
    let url = directory.appendingPathComponent("config.json")
    let value = try StrictJSONParser.parse(Array(Data(contentsOf: url)))
    try Data(JSONWriter.pretty(edit(value)).utf8).write(to: url)
  }

  /// Renames a tensor in a safetensors header in place (the new name has the same length, so
  /// offsets stay valid).
  static func renameTensor(in file: URL, _ old: String, _ new: String) throws {
    precondition(old.utf8.count == new.utf8.count)
    var data = try Data(contentsOf: file)
    let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    var header = String(decoding: data[8..<(8 + length)], as: UTF8.self)
    header = header.replacingOccurrences(of: "\"\(old)\"", with: "\"\(new)\"")
    data.replaceSubrange(8..<(8 + length), with: Data(header.utf8))
    try data.write(to: file)
  }

  /// Validates a JSON document against a schema with python3 jsonschema; returns the errors.
  static func schemaErrors(_ text: String, schema: String) throws -> String {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let scratch = directory.appendingPathComponent("doc.json")
    try Data(text.utf8).write(to: scratch)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", "-c",
      "import json,sys,jsonschema\nschema=json.load(open(sys.argv[1]))\ndoc=json.load(open(sys.argv[2]))\n"
        + "print('\\n'.join(e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)))",
      TestPaths.packageRoot.appendingPathComponent("schemas/\(schema)").path, scratch.path,
    ]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return process.terminationStatus == 0 ? text : "python3 failed: \(text)"
  }
}

@Suite(.enabled(if: VerifyE2E.readerAvailable, "CheckpointReader.open is not available yet"))
struct VerifyCommandTests {
  /// Python speculators 0.1.0 conversions are sound; they fail (exit 1) only on what vLLM does
  /// not serve: speculators eagle, and eagle3 without aux ids for the 4-layer fixture verifier
  /// (vLLM's default taps (2, 2, 1) repeat a layer).
  @Test(arguments: [
    "eagle1-bin", "eagle-safetensors", "hass-layernorms", "eagle3-bin", "eagle3-embed", "eagle3-2layer",
  ])
  func referenceConversionPassesClean(case name: String) throws {
    let result = try runSpeculators(
      ["verify", VerifyE2E.fixture("reference/\(name)"), "--verifier", VerifyE2E.verifier, "--json"])
    let isEagle = name.hasPrefix("eagle1") || name.hasPrefix("eagle-") || name.hasPrefix("hass")
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    let ids = report["findings"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    #expect(ids == (isEagle ? ["config.vllm-support"] : [VerifyE2E.defaultTaps]))
    let notApplicable = report["not_applicable"]?.arrayValue?.compactMap(\.stringValue) ?? []
    #expect(notApplicable.contains(isEagle ? "flags.fc-norm" : "flags.fusion-bias"))
    #expect(notApplicable.contains("shards.index"))
    #expect(report["verifier"]?["source"] == "option")
    #expect(try VerifyE2E.schemaErrors(result.stdout, schema: "verify-report.schema.json") == "")
  }

  /// With --content, the only findings on the reference eagle3 conversion are warnings about
  /// weights that are statistically fresh initialisations, which the fixtures are
  /// (randn × 0.02, Fixtures/README.md); the embedding copied from the verifier matches it.
  @Test func contentScanOfAReferenceConversionWarnsOnlyAboutInitLikeFixtureWeights() throws {
    let result = try runSpeculators(
      [
        "verify", VerifyE2E.fixture("reference/eagle3-bin"), "--verifier", VerifyE2E.verifier, "--content",
        "--json",
      ])
    #expect(result.status == 1, "\(result.stderr)")
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    let findings = (report["findings"]?.arrayValue ?? []).filter { $0["id"] != .string(VerifyE2E.defaultTaps) }
    #expect(findings.allSatisfy { $0["id"] == "content.uninitialised" && $0["severity"] == "warning" })
    #expect(!findings.isEmpty)
    #expect(!findings.contains { $0["tensor"] == "embed_tokens.weight" })  // equal to the verifier's
    let passed = report["passed"]?.arrayValue?.compactMap(\.stringValue) ?? []
    for id in [
      "content.nan-inf", "vocab.t2d-popcount", "vocab.d2t-range", "vocab.t2d-agrees",
      "verifier.embeddings-match",
    ] {
      #expect(passed.contains(id), "\(id) did not pass")
    }
  }

  /// Our own conversions pass every check (verifier, manifest, content). Allowed warnings:
  /// init-like weights (the fixtures are randn × 0.02), eagle not served by vLLM, and a ModelOpt
  /// source that never had a t2d.
  @Test(arguments: [
    "eagle1-bin", "eagle-safetensors", "hass-layernorms", "eagle3-bin", "eagle3-embed", "eagle3-2layer",
    "eagle3-prefixed", "modelopt-v1",
  ])
  func ourConversionPassesEveryCheck(case name: String) throws {
    let output = try TestPaths.temporaryDirectory().appendingPathComponent("converted")
    defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
    let convert = try runSpeculators([
      "convert", VerifyE2E.fixture(name), "--algorithm", "auto", "--verifier", VerifyE2E.verifier,
      "--output-path", output.path,
    ])
    #expect(convert.status == 0, "\(convert.stderr)")
    let result = try runSpeculators([
      "verify", output.path, "--verifier", VerifyE2E.verifier, "--manifest", "--content", "--json",
    ])
    // Errors allowed: vLLM refuses speculators eagle; sources without aux ids get vLLM's default
    // taps, which repeat a layer of the 4-layer fixture verifier.
    let refused = ["eagle1-bin", "eagle-safetensors", "hass-layernorms", "eagle3-bin", "eagle3-2layer",
      "eagle3-prefixed"].contains(name)
    #expect(result.status == (refused ? 1 : 0), "\(result.stdout)")
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    var allowed: Set<String> = ["content.uninitialised", "config.vllm-support", VerifyE2E.defaultTaps]
    if name == "modelopt-v1" { allowed.insert("vocab.maps-presence") }
    for finding in report["findings"]?.arrayValue ?? [] {
      let isError = finding["id"] == "config.vllm-support" || finding["id"] == .string(VerifyE2E.defaultTaps)
      #expect(finding["severity"] == (isError ? "error" : "warning"))
      #expect(allowed.contains(finding["id"]?.stringValue ?? ""), "\(finding["message"]?.stringValue ?? "")")
    }
    let passed = report["passed"]?.arrayValue?.compactMap(\.stringValue) ?? []
    for id in ["manifest.file-digest", "manifest.tensor-digest", "tensors.missing", "content.nan-inf"] {
      #expect(passed.contains(id), "\(id)")
    }
  }

  @Test func verifierNamedInTheConfigIsUsedFromTheWorkingDirectory() throws {
    // reference configs name "Fixtures/verifier", relative to the repository root.
    let result = try runSpeculatorsIn(TestPaths.packageRoot, ["verify", "Fixtures/reference/eagle3-bin"])
    #expect(result.status == 1, "\(result.stderr)")  // the verifier was found: its taps were judged
    #expect(result.stdout.contains(VerifyE2E.defaultTaps))
    #expect(
      result.stdout.contains("verifier: Fixtures/verifier (from speculators_config.verifier.name_or_path)"))
    #expect(!result.stdout.contains("verifier.hidden-size"))  // ran and passed, so not listed as skipped
  }

  @Test func unresolvableVerifierIsReportedAsSkipped() throws {
    let copy = try VerifyE2E.copy("reference/eagle3-bin")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let result = try runSpeculatorsIn(copy.deletingLastPathComponent(), ["verify", copy.path])
    #expect(result.status == 0)
    #expect(
      result.stdout.contains(
        "skipped  verifier 'Fixtures/verifier' from speculators_config.verifier.name_or_path"))
    #expect(result.stdout.contains("verifier.fc-width"))
  }

  @Test(arguments: ["eagle3-embed", "eagle3-2layer", "eagle-safetensors", "modelopt-v2", "eagle3-prefixed"])
  func rawDraftsAreCheckedAgainstTheVerifierBeforeConversion(case name: String) throws {
    let result = try runSpeculators(["verify", VerifyE2E.fixture(name), "--verifier", VerifyE2E.verifier])
    #expect(result.stdout.contains("verify \(VerifyE2E.fixture(name)) ("))
    if ["eagle3-2layer", "eagle3-prefixed"].contains(name) {  // no aux ids: vLLM's taps repeat
      #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
      #expect(result.stdout.contains("FAILED: 1 error"))
      #expect(result.stdout.contains(VerifyE2E.defaultTaps))
    } else {
      #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
      #expect(result.stdout.contains("passed"))
    }
  }

  @Test func missingNormBeforeResidualFails() throws {
    let copy = try VerifyE2E.copy("reference/eagle3-bin")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    try VerifyE2E.editConfig(copy) { $0.removing("norm_before_residual") }
    let result = try runSpeculators(["verify", copy.path, "--verifier", VerifyE2E.verifier])
    #expect(result.status == 1)
    #expect(result.stdout.contains("config.norm-before-residual-missing"))
    #expect(result.stdout.contains("norm_before_residual: expected an explicit true or false, found absent"))
    #expect(result.stdout.contains("FAILED: 2 errors"))  // and vLLM's default taps
  }

  @Test func renamedTensorFailsAsMissingAndUnexpected() throws {
    let copy = try VerifyE2E.copy("reference/eagle3-bin")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    try VerifyE2E.renameTensor(
      in: copy.appendingPathComponent("model.safetensors"), "norm.weight", "nrom.weight")
    let result = try runSpeculators(["verify", copy.path, "--verifier", VerifyE2E.verifier, "--json"])
    #expect(result.status == 1)
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    let findings = report["findings"]?.arrayValue ?? []
    #expect(findings.contains { $0["id"] == "tensors.missing" && $0["tensor"] == "norm.weight" })
    #expect(findings.contains { $0["id"] == "tensors.unexpected" && $0["tensor"] == "nrom.weight" })
  }

  @Test func flippedByteIsCaughtAgainstAManifestBuiltFromHashOutput() throws {
    let copy = try VerifyE2E.copy("reference/eagle3-bin")
    defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
    let hash = try runSpeculators(["hash", copy.path, "--json"])
    #expect(hash.status == 0)
    let digests = try StrictJSONParser.parse(Array(hash.stdout.utf8))
    let manifest: JSONValue = [
      "manifest_version": 1, "tool": ["name": "speculators", "version": "0.1.0"],
      "files": digests["files"] ?? [], "tensors": digests["tensors"] ?? [],
    ]
    try Data(JSONWriter.pretty(manifest).utf8).write(
      to: copy.appendingPathComponent("speculators-manifest.json"))
    let clean = try runSpeculators(["verify", copy.path, "--verifier", VerifyE2E.verifier, "--manifest"])
    #expect(clean.status == 1, "\(clean.stdout)")  // vLLM's default taps only
    #expect(clean.stdout.contains("FAILED: 1 error"))

    let weights = copy.appendingPathComponent("model.safetensors")
    var bytes = try Data(contentsOf: weights)
    bytes[bytes.count - 4000] ^= 0x10
    try bytes.write(to: weights)
    let result = try runSpeculators([
      "verify", copy.path, "--verifier", VerifyE2E.verifier, "--manifest", "--json",
    ])
    #expect(result.status == 1)
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    let ids = Set(report["findings"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
    #expect(ids == [VerifyE2E.defaultTaps, "manifest.file-digest", "manifest.tensor-digest"])
  }

  @Test(arguments: [
    (["verify", "/nonexistent/draft"], "/nonexistent/draft"),
    (
      ["verify", "Fixtures/reference/eagle3-bin", "--verifier", "/nonexistent/verifier"],
      "/nonexistent/verifier"
    ),
    (["verify", "Fixtures/reference/eagle3-bin", "--manifest"], "speculators-manifest.json"),
    (["verify", "Fixtures/medusa"], "not a draft verify can check: detected Medusa heads"),
    (["verify"], "missing PATH"),
  ])
  func inputErrorsExitTwoWithOneLine(arguments: [String], mention: String) throws {
    let result = try runSpeculatorsIn(TestPaths.packageRoot, arguments)
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("error: "))
    #expect(result.stderr.contains(mention))
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(result.stdout.isEmpty)
  }

  @Test func humanOutputHasNoColourOutsideATerminal() throws {
    let result = try runSpeculators([
      "verify", VerifyE2E.fixture("reference/eagle1-bin"), "--verifier", VerifyE2E.verifier,
    ])
    #expect(result.status == 1)
    #expect(!result.stdout.contains("\u{1B}["))
    #expect(result.stdout.contains("error    config.vllm-support"))
    #expect(result.stdout.contains("FAILED: 1 error, 0 warnings"))
  }
}

@Suite struct VerifyListChecksTests {
  @Test func listChecksPrintsTheCatalogue() throws {
    let result = try runSpeculators(["verify", "--list-checks"])
    #expect(result.status == 0)
    let docs = try String(
      contentsOf: TestPaths.packageRoot.appendingPathComponent("docs/checks.md"), encoding: .utf8)
    #expect(docs.contains(result.stdout))
    #expect(result.stdout.contains("| `vocab.t2d-popcount` | error | content |"))
  }
}

/// Runs the built binary with a working directory.
func runSpeculatorsIn(_ directory: URL, _ arguments: [String]) throws -> CommandResult {
  try runSpeculators(arguments, workingDirectory: directory)
}
