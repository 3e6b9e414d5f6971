import Foundation
import Synchronization
import Testing

@testable import Inspect
@testable import Validate

/// `--manifest`: every file and tensor digest is re-computed and compared.
@Suite struct VerifierManifestTests {
  /// A good eagle3 checkpoint with its manifest, in a temporary directory.
  struct Audited {
    var root: URL
    var written: WrittenCheckpoint
    var manifest: URL

    init(extraManifestFiles: [(String, Int, String)] = []) throws {
      root = try SafetensorsFixture.temporaryDirectory()
      written = try DraftFixtures.eagle3().write(to: root.appendingPathComponent("draft"))
      manifest = try ManifestFixture.write(for: written, extraFiles: extraManifestFiles)
    }

    func verify(_ manifest: VerifyOptions.ManifestSource = .checkpointDirectory) throws -> VerifyReport {
      try Verifier.verify(checkpoint: written.checkpoint, options: VerifyOptions(manifest: manifest))
    }

    /// Rewrites the manifest JSON.
    func editManifest(_ edit: (JSONValue) -> JSONValue) throws {
      let value = try StrictJSONParser.parse(Array(Data(contentsOf: manifest)))
      try Data(JSONWriter.pretty(edit(value)).utf8).write(to: manifest)
    }

    func tensorEntries(_ edit: ([JSONValue]) -> [JSONValue]) throws {
      try editManifest { $0.setting("tensors", to: .array(edit($0["tensors"]?.arrayValue ?? []))) }
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
  }

  @Test func goodCheckpointMatchesItsManifest() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    let report = try audited.verify()
    #expect(report.findings.isEmpty)
    #expect(report.manifest == audited.manifest.path)
    for id in ManifestChecks.ids { #expect(report.passed.contains(id)) }
  }

  @Test func progressCoversTheContentScanAndTheReHash() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    let last = Mutex<(done: Int, total: Int)>((0, 0))
    let options = VerifyOptions(manifest: .checkpointDirectory, scanContent: true)
    _ = try Verifier.verify(checkpoint: audited.written.checkpoint, options: options) { update in
      last.withLock { $0 = (max($0.done, update.bytesDone), update.bytesTotal ?? 0) }
    }
    let checkpoint = audited.written.checkpoint
    let floatBytes = checkpoint.tensors.filter { $0.dtype.isFloatingPoint }.reduce(0) { $0 + $1.byteCount }
    let expected = floatBytes + checkpoint.files.reduce(0) { $0 + $1.size } + checkpoint.totalTensorBytes
    #expect(last.withLock { $0.total } == expected)
    #expect(last.withLock { $0.done } == expected)
  }

  @Test func flippedByteInATensorIsCaughtByFileAndTensorDigest() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    let tensor = try #require(audited.written.checkpoint.tensor(named: "layers.0.mlp.down_proj.weight"))
    guard case .contiguous(let offset, _) = tensor.layout else { Issue.record("not contiguous"); return }
    var bytes = try Data(contentsOf: URL(fileURLWithPath: tensor.file))
    bytes[offset + 100] ^= 0x01
    try bytes.write(to: URL(fileURLWithPath: tensor.file))

    let report = try audited.verify()
    let tensorFinding = try #require(report.findings(.manifestTensorDigest).first)
    #expect(tensorFinding.severity == .error)
    #expect(tensorFinding.tensor == "layers.0.mlp.down_proj.weight")
    #expect(tensorFinding.message.contains("'layers.0.mlp.down_proj.weight'"))
    #expect(tensorFinding.message.contains("xxh3_128 expected \(tensorFinding.expected ?? "?")"))
    #expect(tensorFinding.expected != tensorFinding.found)
    #expect(report.findings(.manifestTensorDigest).count == 1)
    let fileFinding = try #require(report.findings(.manifestFileDigest).first)
    #expect(fileFinding.file == "model.safetensors")
    #expect(fileFinding.message.contains("sha256 expected"))
    #expect(fileFinding.found?.count == 64)
    #expect(report.hasErrors)
  }

  @Test func fileListedButAbsent() throws {
    let audited = try Audited(extraManifestFiles: [("tokenizer.json", 10, String(repeating: "a", count: 64))])
    defer { audited.cleanUp() }
    let finding = try #require(try audited.verify().findings(.manifestMissingFile).first)
    #expect(finding.severity == .error)
    #expect(finding.file == "tokenizer.json")
    #expect(finding.message.contains("'tokenizer.json'"))
    #expect(finding.found == "absent")
  }

  @Test func truncatedFileIsASizeMismatch() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    let config = audited.written.directory.appendingPathComponent("config.json")
    try Data(try Data(contentsOf: config).dropLast(2)).write(to: config)
    let finding = try #require(try audited.verify().findings(.manifestFileDigest).first)
    #expect(finding.file == "config.json")
    #expect(finding.message.contains("size expected"))
  }

  @Test func weightsFileAddedAfterTheManifestIsUnlisted() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try Data("{}".utf8).write(to: audited.written.directory.appendingPathComponent("generation_config.json"))
    try Data("notes".utf8).write(to: audited.written.directory.appendingPathComponent("README.md"))
    let findings = try audited.verify().findings(.manifestUnlistedFile)
    #expect(findings.count == 1)
    #expect(findings.first?.severity == .error)
    #expect(findings.first?.file == "generation_config.json")
    #expect(findings.first?.message.contains("expected listed in the manifest, found unlisted") == true)
  }

  @Test func tensorListedButAbsent() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try audited.tensorEntries { entries in
      entries + [
        [
          "name": "ghost.weight", "dtype": "F32", "shape": [4], "file": "model.safetensors",
          "xxh3_128": .string(String(repeating: "0", count: 32)),
          "source": ["origin": "draft"],
        ]
      ]
    }
    let finding = try #require(try audited.verify().findings(.manifestMissingTensor).first)
    #expect(finding.tensor == "ghost.weight")
    #expect(finding.expected == "F32 [4]")
    #expect(finding.found == "absent")
  }

  @Test func tensorMissingFromTheManifest() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try audited.tensorEntries { $0.filter { $0["name"]?.stringValue != "norm.weight" } }
    let finding = try #require(try audited.verify().findings(.manifestUnlistedTensor).first)
    #expect(finding.tensor == "norm.weight")
    #expect(finding.message.contains("found F32 [64]"))
  }

  @Test func tensorDescriptorChanged() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try audited.tensorEntries { entries in
      entries.map { $0["name"]?.stringValue == "fc.weight" ? $0.setting("dtype", to: "BF16") : $0 }
    }
    let report = try audited.verify()
    let finding = try #require(report.findings(.manifestTensorDescriptor).first)
    #expect(finding.tensor == "fc.weight")
    #expect(finding.message.contains("dtype expected BF16 (manifest), found F32"))
    #expect(report.findings(.manifestTensorDigest).isEmpty)
  }

  @Test func manifestAtAnExplicitPath() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    let elsewhere = audited.root.appendingPathComponent("audit.json")
    try FileManager.default.moveItem(at: audited.manifest, to: elsewhere)
    let report = try audited.verify(.file(elsewhere.path))
    #expect(report.findings.isEmpty)
    #expect(report.manifest == elsewhere.path)
  }

  @Test func absentManifestIsAnInputError() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try FileManager.default.removeItem(at: audited.manifest)
    #expect {
      try audited.verify()
    } throws: { error in
      guard let error = error as? CheckpointError else { return false }
      return error.kind == .notFound && error.file.hasSuffix("speculators-manifest.json")
        && error.reason == "manifest not found"
    }
  }

  @Test(arguments: [
    (#"{"files": [], "tensors": [{"name": "x"}]}"#, "tensors[0]: missing 'dtype'"),
    (
      #"{"files": [{"name": "../etc/passwd", "sha256": "00"}], "tensors": []}"#,
      "files[0].name: must be a relative path inside the checkpoint directory"
    ),
    (#"{"files": [{"name": "a", "sha256": "XYZ"}], "tensors": []}"#, "files[0].sha256: must be 64 lowercase hex digits"),
    (#"{"tensors": []}"#, "manifest: missing 'files'"),
    (#"{"manifest_version": 2, "files": [], "tensors": []}"#, "manifest_version 2 is not supported"),
    (#"{"files": [], "files": []}"#, "duplicate key"),
  ])
  func malformedManifestIsAnInputErrorNamingTheEntry(text: String, reason: String) throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try Data(text.utf8).write(to: audited.manifest)
    #expect {
      try audited.verify()
    } throws: { error in
      guard let error = error as? CheckpointError else { return false }
      return error.file == audited.manifest.path && error.reason.contains(reason)
    }
  }

  @Test(
    "a bad entry of a written manifest is an input error naming its path",
    arguments: [
      ("name", JSONValue.string("../etc/passwd"), "files[0].name: must be a relative path inside the checkpoint directory"),
      ("sha256", "XYZ", "files[0].sha256: must be 64 lowercase hex digits"),
      ("size", -1, "files[0].size: must be non-negative"),
    ])
  func badFileEntryIsAnInputErrorNamingTheEntry(key: String, value: JSONValue, reason: String) throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    try audited.editManifest { manifest in
      var files = manifest["files"]?.arrayValue ?? []
      files[0] = files[0].setting(key, to: value)
      return manifest.setting("files", to: .array(files))
    }
    #expect {
      try audited.verify()
    } throws: { error in
      guard let error = error as? CheckpointError else { return false }
      return error.file == audited.manifest.path && error.reason == reason
    }
  }

  @Test func manifestPresentButNotRequestedIsSkippedWithAHint() throws {
    let audited = try Audited()
    defer { audited.cleanUp() }
    let report = try audited.verify(.none)
    let skip = try #require(report.skipped.first { $0.check == .manifestTensorDigest })
    #expect(skip.reason.contains("present but not requested"))
  }
}
