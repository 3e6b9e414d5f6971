import Inspect
import Testing

@testable import Validate

@Suite struct DiffConfigTests {
  private func parse(_ text: String) throws -> JSONValue {
    try StrictJSONParser.parse(Array(text.utf8))
  }

  @Test func reportsAddedRemovedAndChangedByPath() throws {
    let a = try parse(#"{"hidden_size": 64, "rope_scaling": null, "layer": {"eps": 1e-05, "gone": true}}"#)
    let b = try parse(#"{"hidden_size": 128, "rope_scaling": null, "layer": {"eps": 1e-05, "new": "x"}}"#)
    let differences = ConfigDiff.compare(a, b)
    #expect(
      differences == [
        ConfigDifference(path: "$.hidden_size", change: .changed, a: 64, b: 128, isVolatile: false),
        ConfigDifference(path: "$.layer.gone", change: .removed, a: true, b: nil, isVolatile: false),
        ConfigDifference(path: "$.layer.new", change: .added, a: nil, b: "x", isVolatile: false),
      ])
  }

  @Test func arraysAreComparedElementByElement() throws {
    let differences = ConfigDiff.compare(try parse(#"{"ids": [2, 16, 29]}"#), try parse(#"{"ids": [2, 17]}"#))
    #expect(differences.map(\.path) == ["$.ids[1]", "$.ids[2]"])
    #expect(differences.map(\.change) == [.changed, .removed])
    #expect(differences[1].a == 29)
  }

  @Test func integersAndDoublesDiffer() throws {
    let differences = ConfigDiff.compare(try parse(#"{"rope_theta": 500000}"#), try parse(#"{"rope_theta": 500000.0}"#))
    #expect(differences.count == 1)
    #expect(differences.first?.change == .changed)
  }

  @Test func memberOrderIsNotADifference() throws {
    #expect(ConfigDiff.compare(try parse(#"{"a": 1, "b": 2}"#), try parse(#"{"b": 2, "a": 1}"#)).isEmpty)
  }

  @Test func versionKeysAndAutoMapAreVolatile() throws {
    let a = try parse(
      #"{"speculators_version": "0.1.0", "auto_map": {"": "eagle3.Eagle3SpeculatorConfig"}, "transformers_version": "4.53.3", "x": 1}"#)
    let b = try parse(
      #"{"speculators_version": "0.2.0", "auto_map": {"": "config.Eagle3SpeculatorConfig"}, "transformers_version": "4.57.6", "x": 1}"#)
    let differences = ConfigDiff.compare(a, b)
    #expect(differences.map(\.path) == [#"$.auto_map[""]"#, "$.speculators_version", "$.transformers_version"])
    #expect(differences.allSatisfy { $0.isVolatile })
  }

  @Test func unusualKeysAreQuoted() {
    #expect(ConfigDiff.member("hidden_size") == ".hidden_size")
    #expect(ConfigDiff.member("a.b") == #"["a.b"]"#)
    #expect(ConfigDiff.member("0x") == #"["0x"]"#)
    #expect(ConfigDiff.member("") == #"[""]"#)
    #expect(ConfigDiff.member(#"q"uote"#) == #"["q\"uote"]"#)
  }

  @Test func aMissingDocumentIsOneDifferenceAtTheRoot() throws {
    let config = try parse(#"{"a": 1}"#)
    #expect(ConfigDiff.compare(nil, config) == [ConfigDifference(path: "$", change: .added, a: nil, b: config, isVolatile: false)])
    #expect(ConfigDiff.compare(nil, nil).isEmpty)
  }

  @Test func typeChangesAreChanges() throws {
    let differences = ConfigDiff.compare(try parse(#"{"x": [1]}"#), try parse(#"{"x": {"0": 1}}"#))
    #expect(differences.map(\.path) == ["$.x"])
    #expect(differences.first?.change == .changed)
  }
}

@Suite struct DiffManifestRecordTests {
  private func manifest(tensors: [AuditManifest.Tensor]) -> AuditManifest {
    AuditManifest(
      options: .init(algorithm: "eagle3", maxShardSize: 1, outputPath: "out"),
      source: .init(
        given: "d", resolvedPath: "/d", format: "eagle3-safeailab",
        files: [.init(name: "model.safetensors", size: 10, sha256: String(repeating: "a", count: 64))]),
      verifier: .init(given: "v", resolvedPath: "/v", configSHA256: String(repeating: "c", count: 64)),
      tensors: tensors, dropped: [.init(name: "lm_head.weight", reason: "verifier's")],
      files: [.init(name: "model.safetensors", size: 10, sha256: String(repeating: "b", count: 64))])
  }

  private let fc = AuditManifest.Tensor(
    name: "fc.weight", dtype: .F32, shape: [2], file: "model.safetensors", xxh3: String(repeating: "0", count: 32),
    source: .init(origin: .draft, name: "fc.weight"))

  @Test func recordsKeyTensorsByNameAndLeaveOutWhatTheCheckpointShows() throws {
    let record = ManifestRecord.record(of: manifest(tensors: [fc]))
    #expect(record["files"] == nil)
    #expect(record["provenance"] == ["fc.weight": ["origin": "draft", "name": "fc.weight"]])
    #expect(record["dropped"] == ["lm_head.weight": "verifier's"])
    #expect(
      record["source"]?["files"] == ["model.safetensors": ["size": 10, "sha256": .string(String(repeating: "a", count: 64))]])
    // A tensor added on one side is one difference, keyed by its name.
    let added = AuditManifest.Tensor(
      name: "a.weight", dtype: .F32, shape: [1], file: "m", xxh3: String(repeating: "1", count: 32),
      source: .init(origin: .draft))
    let differences = ConfigDiff.compare(record, ManifestRecord.record(of: manifest(tensors: [added, fc])))
    #expect(differences.map(\.path) == [#"$.provenance["a.weight"]"#])
  }
}
