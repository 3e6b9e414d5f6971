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
