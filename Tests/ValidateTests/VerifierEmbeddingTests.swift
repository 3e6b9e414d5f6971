import Foundation
import Testing

@testable import Inspect
@testable import Validate

/// `verifier.embeddings-match` (content): the draft's own `embed_tokens` against the verifier's.
/// Needs the checkpoint reader to open the verifier's weights.
enum ReaderAvailability {
  /// Whether the production checkpoint reader can open the shared verifier fixture.
  static var available: Bool {
    (try? CheckpointReader.open(
      CheckCatalogueTests.packageRoot.appendingPathComponent("Fixtures/verifier").path))
      != nil
  }
}

@Suite(.enabled(if: ReaderAvailability.available, "CheckpointReader.open is not available yet"))
struct VerifierEmbeddingTests {
  /// Values exactly representable in BF16, so an F32 copy widens exactly.
  static func bf16Exact(_ spec: TensorSpec) -> [Float] {
    guard case .floats(let values) = spec.values else { return [] }
    return values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
  }

  func verify(draftEmbedding: [Float], verifierEmbedding: [Float]) throws -> VerifyReport {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var spec = DraftFixtures.eagle3()
    spec.setValues("embed_tokens.weight", .floats(draftEmbedding))
    let written = try spec.write(to: root.appendingPathComponent("draft"))
    let verifier = try DraftFixtures.writeVerifier(in: root)
    _ = try SafetensorsFixture.write(
      [
        TensorSpec(
          name: "model.embed_tokens.weight", dtype: .BF16,
          shape: [DraftFixtures.vocab, DraftFixtures.hidden],
          values: .floats(verifierEmbedding))
      ], to: verifier.appendingPathComponent("model.safetensors"))
    return try Verifier.verify(
      checkpoint: written.checkpoint, options: VerifyOptions(verifier: verifier.path, scanContent: true))
  }

  @Test func f32CopyOfTheVerifierBF16EmbeddingMatches() throws {
    let values = Self.bf16Exact(
      DraftFixtures.weight("embed_tokens.weight", [DraftFixtures.vocab, DraftFixtures.hidden]))
    let report = try verify(draftEmbedding: values, verifierEmbedding: values)
    #expect(report.passed.contains(.verifierEmbeddingsMatch))
    #expect(report.findings.isEmpty)
  }

  @Test func differentEmbeddingIsAWarningNamingBothTensors() throws {
    let values = Self.bf16Exact(
      DraftFixtures.weight("embed_tokens.weight", [DraftFixtures.vocab, DraftFixtures.hidden]))
    var other = values
    other[1000] += 0.5
    let report = try verify(draftEmbedding: values, verifierEmbedding: other)
    let finding = try #require(report.findings(.verifierEmbeddingsMatch).first)
    #expect(finding.severity == .warning)
    #expect(finding.tensor == "embed_tokens.weight")
    #expect(finding.message.contains("'model.embed_tokens.weight'"))
    #expect(finding.found == "different values")
  }
}
