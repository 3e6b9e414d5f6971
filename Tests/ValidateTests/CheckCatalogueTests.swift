import Foundation
import Testing

@testable import Validate

@Suite struct CheckCatalogueTests {
  static var packageRoot: URL {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        return url
      }
    }
    return URL(fileURLWithPath: ".")
  }

  /// Every identifier declared in CheckID.swift.
  static func declaredIDs() throws -> Set<String> {
    let source = try String(
      contentsOf: packageRoot.appendingPathComponent("Sources/Validate/CheckID.swift"), encoding: .utf8)
    var ids = Set<String>()
    for line in source.split(separator: "\n") {
      guard let start = line.range(of: "CheckID(\""), let end = line[start.upperBound...].firstIndex(of: "\"")
      else { continue }
      ids.insert(String(line[start.upperBound..<end]))
    }
    return ids
  }

  @Test func everyDeclaredCheckIsCataloguedOnce() throws {
    let declared = try Self.declaredIDs()
    let catalogued = CheckCatalogue.ids.map(\.rawValue)
    #expect(declared.count >= 50)
    #expect(Set(catalogued) == declared)
    #expect(Set(catalogued).count == catalogued.count)
    for entry in CheckCatalogue.entries {
      #expect(["error", "warning", "error/warning"].contains(entry.severity), "\(entry.id)")
      #expect(!entry.catches.isEmpty && !entry.failure.isEmpty, "\(entry.id)")
    }
  }

  @Test func docsCatalogueIsTheGeneratedTable() throws {
    let docs = try String(
      contentsOf: Self.packageRoot.appendingPathComponent("docs/checks.md"), encoding: .utf8)
    #expect(
      docs.contains(CheckCatalogue.markdownTable()), "regenerate docs/checks.md with `verify --list-checks`")
  }

  @Test("what each check declares it needs agrees with the checks that run it")
  func declaredNeeds() {
    func needs(_ id: CheckID) -> [CheckCatalogue.Need] { CheckCatalogue.entry(for: id)?.needs ?? [] }
    for id in ContentChecks.ids { #expect(needs(id) == [.content], "\(id)") }
    for id in ManifestChecks.ids { #expect(needs(id) == [.manifest], "\(id)") }
    for id in ProbeChecks.ids { #expect(needs(id) == [.probe, .verifier], "\(id)") }
    for id in VerifierCompatibilityChecks.headerIDs { #expect(needs(id) == [.tensorTable, .verifier], "\(id)") }
    #expect(needs(.verifierEmbeddingsMatch) == [.tensorTable, .verifier, .content])
    for id in FlagChecks.allIDs + VocabMapChecks.headerIDs { #expect(needs(id) == [.tensorTable], "\(id)") }
    for id in VocabMapChecks.contentIDs { #expect(needs(id) == [.tensorTable, .content], "\(id)") }
    #expect(CheckCatalogue.ids(needing: .config) == [.configValueBounds, .configAttentionHeads])
    // The documented input is derived from the needs.
    #expect(CheckCatalogue.entry(for: .verifierEmbeddingsMatch)?.input == .verifierContent)
    #expect(CheckCatalogue.entry(for: .tensorsShape)?.input == .header)
  }

  @Test("the Speculators config checks apply to Speculators drafts only; vLLM's verdict also to EAGLE-1 sources")
  func declaredApplicability() {
    let speculatorsOnly = CheckCatalogue.ids(notApplyingTo: .source)
    #expect(speculatorsOnly.count == 15)
    #expect(speculatorsOnly.allSatisfy { $0.rawValue.hasPrefix("config.") })
    #expect(!speculatorsOnly.contains(.configPresent) && !speculatorsOnly.contains(.configValueBounds))
    #expect(CheckCatalogue.ids(notApplyingTo: .mtpVerifier) == speculatorsOnly)
    #expect(CheckCatalogue.ids(notApplyingTo: .servedSource) == speculatorsOnly.filter { $0 != .configVLLMSupport })
    #expect(CheckCatalogue.ids(notApplyingTo: .speculators).isEmpty)
  }

  /// Each check id has a test that trips it (the trip tables plus the dedicated tests).
  @Test func everyCheckHasATripTest() {
    let trips =
      VerifierTripTests.configTrips + VerifierTripTests.tensorTrips + VerifierTripTests.vocabTrips
      + VerifierTripTests.contentTrips + VerifierTripTests.verifierTrips + VerifierTripTests.shardTrips
      + VerifierTripTests.dflashTrips
    var tripped = Set(trips.map(\.id))
    // Dedicated tests: VerifierTripTests.verifierPathThatDoesNotExistIsAWarning,
    // VerifierManifestTests (every manifest id), VerifierEmbeddingTests.
    tripped.insert(.configVerifierPath)
    tripped.formUnion(ManifestChecks.ids)
    tripped.insert(.verifierEmbeddingsMatch)
    // VerifierProbeTests.
    tripped.formUnion(ProbeChecks.ids)
    // VerifierFormatTests.strippedMTPLayersAreAnError.
    tripped.insert(.mtpLayersPresent)
    // VerifierFormatTests.typesOnlyVLLMsGPURunnerServesAreWarned.
    tripped.insert(.configVLLMRunner)
    let missing = CheckCatalogue.ids.filter { !tripped.contains($0) }
    #expect(missing.isEmpty, "no trip test for \(missing)")
  }
}
