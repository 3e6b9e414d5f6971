import Foundation
import Inspect
import Testing

@testable import Probe

/// Inputs the probe refuses with a typed error naming the file: unsupported architectures, a
/// draft that does not fit its verifier, prompt ids outside the vocabulary, non-finite
/// activations, malformed prompt files.
@Suite struct ProbeBadInputTests {
  static let root = ProbeFixtures.root

  /// A copy of a fixture directory whose config.json is edited by `edit`.
  static func copy(_ relative: String, editing edit: (inout [String: Any]) -> Void) throws -> URL {
    let source = root.appendingPathComponent(relative)
    let target = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: source, to: target)
    let configURL = target.appendingPathComponent("config.json")
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: configURL)
    return target
  }

  static var verifier: String { root.appendingPathComponent("verifiers/llama").path }
  static var draft: String { root.appendingPathComponent("drafts/llama-eagle3").path }

  func error(_ body: () throws -> Void) -> ProbeError? {
    do {
      try body()
      return nil
    } catch let error as ProbeError {
      return error
    } catch {
      return nil
    }
  }

  @Test func unsupportedVerifierArchitecture() throws {
    let verifier = try Self.copy("verifiers/llama") { $0["model_type"] = "gpt2"; $0["architectures"] = ["GPT2LMHeadModel"] }
    defer { try? FileManager.default.removeItem(at: verifier) }
    let failure = error { _ = try Prober.probe(draft: Self.draft, verifier: verifier.path, options: ProbeOptions(prompts: [[1, 2]])) }
    #expect(failure?.kind == .unsupported)
    #expect(failure?.description.contains("model_type 'gpt2'") == true)
    #expect(failure?.description.contains("\n") == false)
  }

  @Test func hiddenSizeMismatch() throws {
    let verifier = try Self.copy("verifiers/llama") { $0["hidden_size"] = 96 }
    defer { try? FileManager.default.removeItem(at: verifier) }
    let failure = error { _ = try Prober.probe(draft: Self.draft, verifier: verifier.path, options: ProbeOptions(prompts: [[1, 2]])) }
    #expect(failure?.kind == .mismatch)
  }

  @Test func vocabularyMismatch() throws {
    let draft = try Self.copy("drafts/llama-eagle3") { config in
      var layer = config["transformer_layer_config"] as! [String: Any]
      layer["vocab_size"] = 300
      config["transformer_layer_config"] = layer
    }
    defer { try? FileManager.default.removeItem(at: draft) }
    let failure = error { _ = try Prober.probe(draft: draft.path, verifier: Self.verifier, options: ProbeOptions(prompts: [[1, 2]])) }
    #expect(failure?.kind == .mismatch)
    #expect(failure?.reason.contains("vocab_size 300") == true)
  }

  @Test func promptOutsideVocabulary() {
    let failure = error {
      _ = try Prober.probe(draft: Self.draft, verifier: Self.verifier, options: ProbeOptions(prompts: [[1, 2], [3, 256]]))
    }
    #expect(failure?.kind == .invalidInput)
    #expect(failure?.reason.contains("prompt 2 holds token id 256") == true)
  }

  @Test func nonFiniteActivations() throws {
    // A NaN in the verifier's final norm weight: every logit becomes NaN.
    let verifier = try Self.copy("verifiers/llama") { _ in }
    defer { try? FileManager.default.removeItem(at: verifier) }
    let weights = verifier.appendingPathComponent("model.safetensors")
    let checkpoint = try CheckpointReader.open(weights.path)
    let norm = try #require(checkpoint.tensor(named: "model.norm.weight"))
    guard case .contiguous(let offset, _) = norm.layout else { Issue.record("layout"); return }
    let handle = try FileHandle(forUpdating: weights)
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: Data([0xC0, 0x7F]))  // BF16 NaN
    try handle.close()
    let failure = error { _ = try Prober.probe(draft: Self.draft, verifier: verifier.path, options: ProbeOptions(prompts: [[1, 2]])) }
    #expect(failure?.kind == .nonFinite)
  }

  @Test func promptFileErrorsNameTheLine() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString).jsonl")
    defer { try? FileManager.default.removeItem(at: file) }
    try Data("[1, 2]\n\n[3, -4]\n".utf8).write(to: file)
    let failure = error { _ = try PromptFile.read(file.path) }
    #expect(failure?.reason.hasPrefix("line 3:") == true)
    try Data("[1, 2]\n{\"a\": 1}\n".utf8).write(to: file)
    #expect(error { _ = try PromptFile.read(file.path) }?.reason.contains("line 2") == true)
    try Data("[1, 2]\n[7]\n".utf8).write(to: file)
    #expect(try PromptFile.read(file.path) == [[1, 2], [7]])
  }
}
