import Foundation
import Inspect

/// Validates JSON documents against the repository's schemas with Python `jsonschema`
/// (system python3 in CI; test-time only).
enum SchemaValidation {
  /// Validation errors (empty when valid).
  static func errors(_ document: JSONValue, schema name: String) throws -> String {
    let root = CheckCatalogueTests.packageRoot
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
      "schema-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: scratch) }
    try Data(JSONWriter.pretty(document).utf8).write(to: scratch)
    let script = """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1]))
      doc = json.load(open(sys.argv[2]))
      errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)
      print("\\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors))
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", "-c", script, root.appendingPathComponent("schemas/\(name)").path, scratch.path,
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
