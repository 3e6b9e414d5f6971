import Foundation
import Inspect
import Testing

/// `Fixtures/hostile/strides/` (written by `scripts/make_hostile_torch.py`): torch views with
/// a stride of 0 (`expand`), transposed, overlapping, and at the end of their storage, through
/// every command. Nothing may materialise a view larger than its storage: an expanded view is
/// hashed and scanned by its storage and its view, convert refuses it, and every command ends
/// with 0, 1 or 2 (never a signal), one line on 2.
@Suite("torch views with unusual strides through every command")
struct StrideCommandTests {
  static let singles = [
    "expand_1d.pt", "expand_2d.pt", "expand_rows.pt", "expand_small.pt", "transposed.pt", "overlapping.pt",
    "offset_last.pt", "offset_end_empty.pt",
  ]

  private func path(_ name: String) -> String {
    TestPaths.fixtures.appendingPathComponent("hostile/strides/" + name).path
  }

  private func expectClean(_ result: CommandResult, _ context: String, allowed: Set<Int32> = [0, 1]) {
    #expect(allowed.contains(result.status), "\(context): exit \(result.status)\n\(result.stderr)")
    if result.status == 2 {
      #expect(result.stderr.split(separator: "\n").count == 1, "\(context)\n\(result.stderr)")
    }
  }

  @Test("inspect, hash, diff and verify --content read every view", arguments: singles)
  func everyCommand(name: String) throws {
    let file = path(name)
    expectClean(try speculatorsAtRoot(["inspect", file]), "inspect \(name)", allowed: [0])
    expectClean(try speculatorsAtRoot(["inspect", file, "--json"]), "inspect --json \(name)", allowed: [0])
    let hash = try speculatorsAtRoot(["hash", file, "--json"])
    expectClean(hash, "hash \(name)", allowed: [0])
    #expect(hash.stdout.contains("\"w\""), "\(hash.stdout)")
    expectClean(try speculatorsAtRoot(["diff", file, file]), "diff \(name) itself", allowed: [0])
    expectClean(try speculatorsAtRoot(["diff", file, path("expand_small.pt")]), "diff \(name)")
    // Not a draft: verify refuses it as input (2), after reading nothing it should not.
    expectClean(try speculatorsAtRoot(["verify", file, "--content"]), "verify \(name)", allowed: [0, 1, 2])
  }

  @Test("an expanded view hashes by its storage and view: distinct views, distinct digests")
  func expandedDigests() throws {
    var digests: [String: String] = [:]
    for name in ["expand_1d.pt", "expand_2d.pt", "expand_rows.pt", "expand_small.pt"] {
      let hash = try speculatorsAtRoot(["hash", path(name), "--json"])
      #expect(hash.status == 0, "\(hash.stderr)")
      let json = try StrictJSONParser.parse(Array(hash.stdout.utf8))
      let tensors = json["tensors"]?.arrayValue ?? []
      digests[name] = tensors.first { $0["name"]?.stringValue == "w" }?["xxh3_128"]?.stringValue
    }
    #expect(digests.values.count == 4)
    #expect(Set(digests.values).count == 4, "\(digests)")
    let different = try speculatorsAtRoot(["diff", path("expand_1d.pt"), path("expand_small.pt")])
    #expect(different.status == 1, "\(different.stderr)")
  }

  @Test("a draft with a transposed view converts; its dense values are written")
  func transposedDraftConverts() throws {
    let parent = try TestPaths.temporaryDirectory()
    let output = parent.appendingPathComponent("out")
    let draft = path("eagle1-transposed")
    let convert = try speculatorsAtRoot([
      "convert", draft, "--algorithm", "eagle", "--verifier", "Fixtures/verifier", "--output-path", output.path,
    ])
    #expect(convert.status == 0, "\(convert.stderr)")
    let verify = try speculatorsAtRoot(["verify", output.path, "--content", "--verifier", "Fixtures/verifier"])
    expectClean(verify, "verify the conversion")
    // The converted q_proj is the view's dense form: same digest as the source view.
    func digest(_ location: String, _ tensor: String) throws -> String? {
      let hash = try speculatorsAtRoot(["hash", location, "--json"])
      let json = try StrictJSONParser.parse(Array(hash.stdout.utf8))
      return (json["tensors"]?.arrayValue ?? []).first { $0["name"]?.stringValue == tensor }?["xxh3_128"]?
        .stringValue
    }
    let source = try digest(draft, "layers.0.self_attn.q_proj.weight")
    let converted = try digest(output.path, "transformer.self_attn.q_proj.weight")
    #expect(source != nil && source == converted)
    expectClean(try speculatorsAtRoot(["diff", draft, output.path]), "diff source and conversion")
  }

  @Test("a draft with an expanded view: convert refuses it, nothing written; the rest reads it")
  func expandedDraft() throws {
    let parent = try TestPaths.temporaryDirectory()
    let draft = path("eagle1-expanded")
    let convert = try speculatorsAtRoot([
      "convert", draft, "--algorithm", "eagle", "--verifier", "Fixtures/verifier", "--output-path",
      parent.appendingPathComponent("out").path,
    ])
    #expect(convert.status == 2, "\(convert.stderr)")
    #expect(convert.stderr.split(separator: "\n").count == 1)
    #expect(convert.stderr.contains("expanded view"), "\(convert.stderr)")
    #expect(convert.stderr.contains("layers.0.post_attention_layernorm.weight"), "\(convert.stderr)")
    #expect(directoryNames(parent).isEmpty)
    expectClean(try speculatorsAtRoot(["inspect", draft]), "inspect", allowed: [0])
    expectClean(try speculatorsAtRoot(["hash", draft]), "hash", allowed: [0])
    expectClean(try speculatorsAtRoot(["verify", draft, "--content", "--verifier", "Fixtures/verifier"]), "verify")
    expectClean(try speculatorsAtRoot(["diff", draft, path("eagle1-transposed")]), "diff")
  }
}
