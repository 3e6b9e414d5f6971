import Foundation
import Testing

@testable import Inspect
@testable import Validate

/// Good checkpoints pass clean: no findings with every check enabled (verifier, content, manifest).
@Suite struct VerifierGoodInputTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var spec: @Sendable () -> DraftSpec
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "speculators eagle3, 1 layer (converter layout)") { DraftFixtures.eagle3() },
    Case(name: "speculators eagle3, 2 layers (trained layout)") { DraftFixtures.eagle3(layers: 2) },
    Case(name: "speculators eagle3, qwen3 layers with q_norm/k_norm") { DraftFixtures.eagle3(qwen3: true) },
    Case(name: "speculators eagle") { DraftFixtures.eagle() },
    Case(name: "speculators eagle, HASS with bias and layernorms") {
      DraftFixtures.eagle(fusionBias: true, layernorms: true)
    },
    Case(name: "raw EAGLE-3 (midlayer)") { DraftFixtures.rawEagle3() },
    Case(name: "raw EAGLE-1") { DraftFixtures.rawEagle1() },
  ]

  @Test(arguments: cases)
  func passesCleanWithEveryCheckEnabled(_ testCase: Case) throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let verifier = try DraftFixtures.writeVerifier(in: root)
    let written = try testCase.spec().write(to: root.appendingPathComponent("draft"))
    _ = try ManifestFixture.write(for: written)
    let report = try Verifier.verify(
      checkpoint: written.checkpoint,
      options: VerifyOptions(verifier: verifier.path, manifest: .checkpointDirectory, scanContent: true))
    // speculators eagle is structurally sound but refused by vLLM: that one error, nothing else.
    let unexpected = report.findings.filter { $0.check != .configVLLMSupport }
    #expect(unexpected.isEmpty, "\(unexpected.map { "\($0.check): \($0.message)" })")
    let isEagle = written.checkpoint.config?["speculators_model_type"]?.stringValue == "eagle"
    #expect(report.hasErrors == isEagle)
    #expect(report.verifier?.source == "option")
    #expect(report.checksRun.contains(.manifestTensorDigest))
    #expect(report.checksRun.contains(.contentNaNInf))
    #expect(report.checksRun.contains(.verifierFCWidth))
  }

  @Test func wrapperPrefixIsStrippedForRawDrafts() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var spec = DraftFixtures.rawEagle3()
    for tensor in spec.tensors where tensor.name != "lm_head.weight" {
      spec.rename(tensor.name, to: "model." + tensor.name)
    }
    let verifier = try DraftFixtures.writeVerifier(in: root)
    let written = try spec.write(to: root.appendingPathComponent("draft"))
    _ = try ManifestFixture.write(for: written)
    let report = try Verifier.verify(
      checkpoint: written.checkpoint,
      options: VerifyOptions(verifier: verifier.path, manifest: .checkpointDirectory, scanContent: true))
    #expect(report.strippedPrefix == "model.")
    #expect(report.layout == .eagle3MidlayerSource)
    #expect(report.findings.isEmpty, "\(report.findings.map(\.message))")
    #expect(report.passed.contains(.manifestTensorDigest))  // the manifest keeps the stored names
  }

  @Test func researchLayoutWithoutItsVocabMapsIsAnError() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var spec = DraftFixtures.rawEagle3()
    spec.rename("midlayer.hidden_norm.weight", to: "hidden_norm.weight")
    spec.rename("midlayer.input_layernorm.weight", to: "input_layernorm.weight")
    spec.rename("norm.weight", to: "lm_head_layernorm.weight")
    for tensor in spec.tensors where tensor.name.hasPrefix("midlayer.") {
      spec.rename(tensor.name, to: "layers.0." + tensor.name.dropFirst("midlayer.".count))
    }
    spec.remove("d2t")
    spec.remove("t2d")
    let written = try spec.write(to: root.appendingPathComponent("draft"))
    let report = try Verifier.verify(checkpoint: written.checkpoint)
    #expect(report.layout == .eagle3ResearchSource)
    #expect(report.findings.map(\.check) == [.vocabMapsPresence])
    #expect(report.findings.first?.severity == .error)
  }

  @Test func eagleConversionFailsOnlyBecauseVLLMRefusesIt() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let written = try DraftFixtures.eagle().write(to: root.appendingPathComponent("draft"))
    let report = try Verifier.verify(checkpoint: written.checkpoint)
    #expect(report.findings.map(\.check) == [.configVLLMSupport])
    #expect(report.findings.first?.severity == .error)
    #expect(report.findings.first?.message.contains("method \"eagle\"") == true)
    #expect(report.hasErrors)
  }

  @Test func withoutVerifierTheVerifierChecksAreSkippedNotPassed() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let written = try DraftFixtures.eagle3().write(to: root.appendingPathComponent("draft"))
    let report = try Verifier.verify(checkpoint: written.checkpoint)
    #expect(report.findings.isEmpty)
    let skipped = Set(report.skipped.map(\.check))
    for id in [CheckID.verifierHiddenSize, .verifierVocabSize, .verifierFCWidth, .verifierAuxLayerIDs] {
      #expect(skipped.contains(id))
      #expect(!report.passed.contains(id))
    }
    let reason = report.skipped.first { $0.check == .verifierHiddenSize }?.reason ?? ""
    #expect(reason.contains("meta-llama/Llama-3.1-8B-Instruct"))
    #expect(reason.contains("--verifier"))
    #expect(skipped.contains(.contentNaNInf))
    #expect(report.notApplicable.contains(.flagsFusionBias))
    #expect(!skipped.contains(.flagsFusionBias))
    #expect(report.notApplicable.contains(.shardsIndex))
    #expect(skipped.contains(.manifestFileDigest))
  }

  @Test func verifierNamedInTheConfigIsResolvedRelativeToTheCheckpoint() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    _ = try DraftFixtures.writeVerifier(in: root)
    let written = try DraftFixtures.eagle3(verifier: "../verifier").write(
      to: root.appendingPathComponent("draft"))
    let report = try Verifier.verify(
      checkpoint: written.checkpoint, options: VerifyOptions(workingDirectory: "/"))
    #expect(report.verifier?.source == "config")
    #expect(report.verifier?.given == "../verifier")
    #expect(report.passed.contains(.verifierHiddenSize))
    #expect(report.findings.isEmpty)
  }
}

@Suite struct VerifierInputErrorTests {
  @Test func unreadableVerifierIsAnInputErrorEvenWithoutATensorTable() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var spec = DraftFixtures.eagle3()
    spec.config = nil
    let written = try spec.write(to: root.appendingPathComponent("draft"))
    #expect {
      try Verifier.verify(checkpoint: written.checkpoint, options: VerifyOptions(verifier: "/nonexistent/verifier"))
    } throws: { error in
      (error as? CheckpointError)?.file == "/nonexistent/verifier"
        && (error as? CheckpointError)?.kind == .notFound
    }
  }

  @Test func malformedVerifierConfigNamesTheFileAndOffset() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let verifier = root.appendingPathComponent("verifier")
    try FileManager.default.createDirectory(at: verifier, withIntermediateDirectories: true)
    try Data(#"{"hidden_size": 64,}"#.utf8).write(to: verifier.appendingPathComponent("config.json"))
    let written = try DraftFixtures.eagle3().write(to: root.appendingPathComponent("draft"))
    #expect {
      try Verifier.verify(checkpoint: written.checkpoint, options: VerifyOptions(verifier: verifier.path))
    } throws: { error in
      guard let error = error as? CheckpointError else { return false }
      return error.kind == .malformed && error.file.hasSuffix("verifier/config.json") && error.offset != nil
    }
  }

  @Test func verifierDirectoryWithoutConfigIsAnInputError() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let written = try DraftFixtures.eagle3().write(to: root.appendingPathComponent("draft"))
    #expect {
      try Verifier.verify(checkpoint: written.checkpoint, options: VerifyOptions(verifier: root.path))
    } throws: { error in
      (error as? CheckpointError)?.reason == "verifier directory has no config.json"
    }
  }
}
