import Foundation
import Testing

@testable import Inspect
@testable import Validate

@Suite struct VerifyReportSchemaTests {
  @Test func schemaListsExactlyTheCataloguedIDs() throws {
    let url = CheckCatalogueTests.packageRoot.appendingPathComponent("schemas/verify-report.schema.json")
    let schema = try StrictJSONParser.parse(Array(Data(contentsOf: url)))
    let ids = schema["$defs"]?["check_id"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
    #expect(ids == CheckCatalogue.ids.map(\.rawValue))
  }

  @Test func cleanReportWithVerifierValidates() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let verifier = try DraftFixtures.writeVerifier(in: root)
    let written = try DraftFixtures.eagle3().write(to: root.appendingPathComponent("draft"))
    let report = try Verifier.verify(
      checkpoint: written.checkpoint, options: VerifyOptions(verifier: verifier.path, scanContent: true))
    let json = report.json()
    #expect(json["verifier"]?["source"] == "option")
    #expect(json["summary"]?["errors"] == 0)
    #expect(try SchemaValidation.errors(json, schema: "verify-report.schema.json") == "")
  }

  @Test func reportWithFindingsAndSkipsValidates() throws {
    let trip = Trip(
      name: "several", id: .tensorsMissing, severity: .error, mentions: [],
      mutate: { spec in
        spec.remove("norm.weight")
        spec.setConfig("norm_before_residual", nil)
        spec.setDType("fc.weight", .BF16)
      }, verifier: nil)
    let (report, _) = try runTrip(trip)
    let json = report.json()
    #expect(json["verifier"] == .null)
    #expect((json["findings"]?.arrayValue?.count ?? 0) >= 3)
    #expect(json["findings"]?.arrayValue?.first?["severity"] == "error")
    #expect(json["summary"]?["skipped"]?.intValue == report.skipped.count)
    #expect(try SchemaValidation.errors(json, schema: "verify-report.schema.json") == "")
  }
}
