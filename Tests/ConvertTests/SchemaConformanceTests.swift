import Foundation
import Inspect
import Testing

@testable import Convert

/// Validates JSON documents against `schemas/` with the system `python3 -m jsonschema` style
/// check (Draft 2020-12). Returns python's exit status and output.
func validateWithPython(_ pairs: [(schema: String, document: String)]) throws -> (
  status: Int32, output: String
) {
  let script = """
    import json, sys, jsonschema
    failures = 0
    for schema_path, document_path in zip(sys.argv[1::2], sys.argv[2::2]):
        schema = json.load(open(schema_path))
        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(json.load(open(document_path))), key=lambda e: list(e.path))
        for error in errors:
            failures += 1
            print(document_path, list(error.path), error.message)
    sys.exit(1 if failures else 0)
    """
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3", "-c", script] + pairs.flatMap { [$0.schema, $0.document] }
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

enum SchemaPaths {
  static func path(_ name: String) -> String {
    (FixturePaths.root as NSString).deletingLastPathComponent + "/schemas/" + name
  }
}

@Suite("Written JSON conforms to schemas/")
struct SchemaConformanceTests {
  @Test("config.json, the manifest and the --json report of eagle and eagle3 conversions validate")
  func conversions() throws {
    let parent = try makeTemporaryDirectory()
    var pairs: [(schema: String, document: String)] = []
    let cases: [(String, AlgorithmChoice, JSONValue)] = [
      ("eagle-safetensors", .eagle, ["fusion_bias": true]),
      ("eagle3-embed", .eagle3, ["norm_before_residual": true]),
      ("eagle3-2layer", .auto, .object([])),
    ]
    for (name, algorithm, kwargs) in cases {
      let output = parent + "/" + name
      let report = try convertForTest(
        model: FixturePaths.path(name), algorithm: algorithm, output: output, kwargs: kwargs,
        validateDevice: "cpu")
      try (JSONWriter.pretty(report.json()) + "\n").write(
        toFile: parent + "/\(name).report.json", atomically: false, encoding: .utf8)
      pairs.append((SchemaPaths.path("speculators-config.schema.json"), output + "/config.json"))
      pairs.append(
        (SchemaPaths.path("speculators-manifest.schema.json"), output + "/speculators-manifest.json"))
      pairs.append((SchemaPaths.path("convert-report.schema.json"), parent + "/\(name).report.json"))
    }
    let result = try validateWithPython(pairs)
    #expect(result.status == 0, "\(result.output)")
  }

  @Test("the schemas reject what readers reject")
  func negative() throws {
    let parent = try makeTemporaryDirectory()
    let output = parent + "/out"
    _ = try convertForTest(model: FixturePaths.path("eagle3-embed"), algorithm: .eagle3, output: output)
    let config = try readConfig(output)
    let broken = config.removing("speculators_config")
    try JSONWriter.pretty(broken).write(
      toFile: parent + "/broken-config.json", atomically: false, encoding: .utf8)
    let manifest = try AuditManifest(contentsOf: output + "/speculators-manifest.json").json()
    try JSONWriter.pretty(manifest.setting("extra", to: 1)).write(
      toFile: parent + "/broken-manifest.json", atomically: false, encoding: .utf8)
    let result = try validateWithPython([
      (SchemaPaths.path("speculators-config.schema.json"), parent + "/broken-config.json"),
      (SchemaPaths.path("speculators-manifest.schema.json"), parent + "/broken-manifest.json"),
    ])
    #expect(result.status == 1)
    #expect(result.output.contains("'speculators_config' is a required property"))
    #expect(result.output.contains("Additional properties are not allowed ('extra' was unexpected)"))
  }
}
