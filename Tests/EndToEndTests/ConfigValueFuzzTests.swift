import Foundation
import Inspect
import Testing

/// A copy of a fixture directory under a fresh temporary directory, with `config.json`'s value
/// at `path` (dotted; created when absent) replaced by the raw JSON text `raw`.
func mutatedFixture(_ fixture: String, path: [String], raw: String, in parent: URL) throws -> URL {
  let source = TestPaths.fixtures.appendingPathComponent(fixture)
  let copy = parent.appendingPathComponent(fixture)
  try FileManager.default.copyItem(at: source, to: copy)
  let configURL = copy.appendingPathComponent("config.json")
  let config = try StrictJSONParser.parse([UInt8](Data(contentsOf: configURL)))
  let placeholder = "\u{1}mutated\u{1}"
  func replacing(_ value: JSONValue, _ path: ArraySlice<String>) -> JSONValue {
    guard let key = path.first else { return .string(placeholder) }
    var members = value.objectMembers ?? []
    if let index = members.firstIndex(where: { $0.key == key }) {
      members[index].value = replacing(members[index].value, path.dropFirst())
    } else {
      members.append((key, replacing(.object([]), path.dropFirst())))
    }
    return .object(members)
  }
  let text = JSONWriter.pretty(replacing(config, path[...]))
    .replacingOccurrences(of: JSONWriter.compact(.string(placeholder)), with: raw)
  try Data(text.utf8).write(to: configURL)
  return copy
}

/// Exit statuses a command may end with: never a signal.
private func expectCleanExit(_ result: CommandResult, _ context: String) {
  #expect([0, 1, 2].contains(result.status), "\(context): exit \(result.status)\n\(result.stderr)")
  if result.status == 2 {
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "\(context): not one line\n\(result.stderr)")
  }
}

/// The values every numeric config key is mutated over.
let hostileNumbers = [
  "0", "-1", "1", "2147483648", "4294967296", "4611686018427387904", "9223372036854775807",
  "-9223372036854775808", "1e308", "-0.0", "64.5", "\"64\"", "\"x\"", "null", "true", "[64]", "{\"a\": 64}",
]

/// Structured fuzzing of config numbers through `verify` and `convert`: every numeric key of a
/// draft's, a verifier's and a Speculators config over zero, negatives, powers of two at the
/// 32- and 64-bit edges, huge and fractional doubles, strings, null, booleans, arrays and
/// objects. The commands must end with 0, 1 or 2 (never a signal), say one line on 2, and
/// convert must write nothing on 2.
@Suite("config values fuzzed through verify and convert")
struct ConfigValueFuzzTests {
  static let draftKeys = [
    "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
    "vocab_size", "draft_vocab_size", "max_position_embeddings", "head_dim", "target_hidden_size",
    "rms_norm_eps", "rope_theta",
  ]
  static let verifierKeys = [
    "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
    "vocab_size", "max_position_embeddings", "head_dim",
  ]

  /// Converts with the mutated config; on exit 2 nothing may be left in the parent.
  private func convert(draft: String, verifier: String, algorithm: String, parent: URL, context: String) throws
    -> CommandResult
  {
    let before = directoryNames(parent)
    let output = parent.appendingPathComponent("out")
    let result = try speculatorsAtRoot([
      "convert", draft, "--algorithm", algorithm, "--verifier", verifier, "--output-path", output.path,
    ])
    expectCleanExit(result, context)
    if result.status != 0 { #expect(directoryNames(parent) == before, "\(context): left \(directoryNames(parent))") }
    return result
  }

  @Test("draft config numbers through convert and verify", arguments: draftKeys)
  func draftKey(key: String) throws {
    for raw in hostileNumbers {
      let parent = try TestPaths.temporaryDirectory()
      let draft = try mutatedFixture("eagle3-embed", path: [key], raw: raw, in: parent)
      let context = "eagle3-embed \(key)=\(raw)"
      _ = try convert(
        draft: draft.path, verifier: "Fixtures/verifier", algorithm: "eagle3", parent: parent, context: context)
      let verify = try speculatorsAtRoot(["verify", draft.path, "--verifier", "Fixtures/verifier"])
      expectCleanExit(verify, "verify " + context)
      try FileManager.default.removeItem(at: parent)
    }
  }

  @Test("verifier config numbers through convert and verify", arguments: verifierKeys)
  func verifierKey(key: String) throws {
    for raw in hostileNumbers {
      let parent = try TestPaths.temporaryDirectory()
      let verifier = try mutatedFixture("verifier", path: [key], raw: raw, in: parent)
      let context = "verifier \(key)=\(raw)"
      _ = try convert(
        draft: "Fixtures/eagle1-bin", verifier: verifier.path, algorithm: "eagle", parent: parent, context: context)
      let verify = try speculatorsAtRoot(["verify", "Fixtures/speculators-eagle3", "--verifier", verifier.path])
      expectCleanExit(verify, "verify " + context)
      try FileManager.default.removeItem(at: parent)
    }
  }

  @Test(
    "Speculators config numbers through verify",
    arguments: [
      ["draft_vocab_size"], ["target_hidden_size"],
      ["speculators_config", "proposal_methods"],
    ] + verifierKeys.map { ["transformer_layer_config", $0] })
  func speculatorsKey(path: [String]) throws {
    for raw in hostileNumbers {
      let parent = try TestPaths.temporaryDirectory()
      let checkpoint = try mutatedFixture("speculators-eagle3", path: path, raw: raw, in: parent)
      for extra in [[], ["--content"]] {
        let verify = try speculatorsAtRoot(["verify", checkpoint.path, "--verifier", "Fixtures/verifier"] + extra)
        expectCleanExit(verify, "verify \(path.joined(separator: "."))=\(raw) \(extra)")
      }
      try FileManager.default.removeItem(at: parent)
    }
  }
}

/// The config values of the bug reports: each is a `config.value-bounds` finding in verify and
/// exit 2 (one line naming the key, nothing written) in convert.
@Suite("config numbers are bounded before use")
struct ConfigBoundsCommandTests {
  @Test(
    "out-of-bounds draft sizes: verify finds them, convert refuses",
    arguments: [
      ("head_dim", "4611686018427387904"), ("head_dim", "9223372036854775807"),
      ("num_key_value_heads", "4611686018427387904"), ("num_key_value_heads", "-9223372036854775808"),
      ("hidden_size", "9223372036854775807"), ("hidden_size", "-9223372036854775808"), ("hidden_size", "-64"),
      ("target_hidden_size", "4611686018427387904"), ("target_hidden_size", "-9223372036854775808"),
      ("num_hidden_layers", "4294967296"), ("intermediate_size", "0"), ("num_key_value_heads", "0"),
      ("hidden_size", "64.5"),
    ])
  func draftBounds(key: String, raw: String) throws {
    let parent = try TestPaths.temporaryDirectory()
    let draft = try mutatedFixture("eagle3-embed", path: [key], raw: raw, in: parent)
    let before = directoryNames(parent)
    let convert = try speculatorsAtRoot([
      "convert", draft.path, "--algorithm", "eagle3", "--verifier", "Fixtures/verifier", "--output-path",
      parent.appendingPathComponent("out").path,
    ])
    #expect(convert.status == 2, "\(convert.stderr)")
    #expect(convert.stderr.split(separator: "\n").count == 1, "\(convert.stderr)")
    #expect(convert.stderr.contains("\(key) is \(raw); expected an integer from 1 to"), "\(convert.stderr)")
    #expect(directoryNames(parent) == before)

    let verify = try speculatorsAtRoot(["verify", draft.path, "--json"])
    #expect(verify.status == 1, "\(verify.stderr)")
    #expect(verify.stdout.contains("\"config.value-bounds\""), "\(verify.stdout)")
  }

  @Test("a Speculators config with hidden_size -64 is a finding")
  func speculatorsBounds() throws {
    let parent = try TestPaths.temporaryDirectory()
    let checkpoint = try mutatedFixture(
      "speculators-eagle3", path: ["transformer_layer_config", "hidden_size"], raw: "-64", in: parent)
    let verify = try speculatorsAtRoot(["verify", checkpoint.path])
    #expect(verify.status == 1, "\(verify.stderr)")
    #expect(verify.stdout.contains("config.value-bounds"), "\(verify.stdout)")
    #expect(verify.stdout.contains("transformer_layer_config.hidden_size is -64"), "\(verify.stdout)")
  }

  @Test("a verifier with hidden_size 0: verify finds it, convert refuses")
  func verifierBounds() throws {
    let parent = try TestPaths.temporaryDirectory()
    let verifier = try mutatedFixture("verifier", path: ["hidden_size"], raw: "0", in: parent)
    let verify = try speculatorsAtRoot(["verify", "Fixtures/speculators-eagle3", "--verifier", verifier.path])
    #expect(verify.status == 1, "\(verify.stderr)")
    #expect(verify.stdout.contains("hidden_size is 0; expected an integer from 1 to 16777216"), "\(verify.stdout)")
    let before = directoryNames(parent)
    for (draft, algorithm) in [("Fixtures/eagle1-bin", "eagle"), ("Fixtures/eagle3-bin", "eagle3")] {
      let convert = try speculatorsAtRoot([
        "convert", draft, "--algorithm", algorithm, "--verifier", verifier.path, "--output-path",
        parent.appendingPathComponent("out").path,
      ])
      #expect(convert.status == 2, "\(convert.stderr)")
      #expect(convert.stderr.contains("hidden_size is 0"), "\(convert.stderr)")
      #expect(directoryNames(parent) == before)
    }
  }
}
