import Foundation
import HubEmulatorSupport
import Testing

/// `speculators diff` of Hub ids against the emulator: headers only (a structure-only
/// comparison) unless values are asked for, and results equal to the local diff's.
@Suite("diff of Hub ids")
struct HubDiffCommandTests {
  /// The verifier fixture with the last data byte of its second shard flipped: the same
  /// structure, other bytes.
  static func changedVerifier() throws -> [String: [UInt8]] {
    var repo = try HubSourceCommandTests.fixtureRepo("verifier")
    let shard = "model-00002-of-00002.safetensors"
    var bytes = try #require(repo[shard])
    bytes[bytes.count - 1] ^= 0x01
    repo[shard] = bytes
    return repo
  }

  /// Writes `repo` to a directory (what a local copy holds).
  static func localCopy(_ repo: [String: [UInt8]], in directory: URL, name: String) throws -> String {
    let folder = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (file, bytes) in repo { try Data(bytes).write(to: folder.appendingPathComponent(file)) }
    return folder.path
  }

  /// `8 + header length` summed over the safetensors files of `repos`.
  static func headerBytes(_ repos: [[String: [UInt8]]]) -> (bytes: Int, files: Int) {
    var total = 0
    var files = 0
    for repo in repos {
      for (name, bytes) in repo where name.hasSuffix(".safetensors") {
        total += safetensorsHeaderBytes(bytes)
        files += 1
      }
    }
    return (total, files)
  }

  /// What a diff report says about structure alone: config, metadata and file differences, and
  /// per tensor its names, dtypes, shapes and the structural verdict (a pair of equal dtype and
  /// shape is `bytes-not-read` whatever its bytes; a dtype change is `not-comparable`).
  static func structure(_ json: String) throws -> [String] {
    let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    func text(_ value: Any?) throws -> String {
      guard let value else { return "null" }
      if value is NSNull { return "null" }
      return String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }
    var lines: [String] = []
    lines.append("config " + (try text((report["config"] as? [String: Any])?["differences"])))
    lines.append("metadata " + (try text((report["metadata"] as? [String: Any])?["differences"])))
    for file in report["files"] as? [[String: Any]] ?? [] {
      lines.append("file \(file["name"] ?? "") \(file["change"] ?? "") \(file["counts"] ?? "")")
    }
    for tensor in report["tensors"] as? [[String: Any]] ?? [] {
      let a = tensor["a"] as? [String: Any]
      let b = tensor["b"] as? [String: Any]
      var status = tensor["status"] as? String ?? ""
      if ["identical", "different", "equal-values", "within-tolerance"].contains(status) {
        status = "\(a?["dtype"] ?? "")" == "\(b?["dtype"] ?? "")" ? "bytes-not-read" : "not-comparable"
      }
      func side(_ side: [String: Any]?) throws -> String {
        guard let side else { return "-" }
        return "\(side["name"] ?? "") \(side["dtype"] ?? "") \(try text(side["shape"])) \(side["file"] ?? "")"
      }
      lines.append("tensor \(tensor["name"] ?? "") \(status) | \(try side(a)) | \(try side(b))")
    }
    let summary = report["summary"] as? [String: Any]
    lines.append("dtype changes \(summary?["dtype_changes"] ?? "")")
    return lines
  }

  static func options(_ json: String) throws -> [String: Any] {
    let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    return try #require(report["options"] as? [String: Any])
  }

  @Test("two Hub ids, same structure, other bytes: headers only, equal structure, the local diff's structure")
  func sameStructure() throws {
    let verifier = try HubSourceCommandTests.fixtureRepo("verifier")
    let changed = try Self.changedVerifier()
    let hub = try HubEmulator(repos: ["test/a": verifier, "test/b": changed])
    let remote = try runSpeculators(["diff", "test/a", "test/b", "--json"], environment: hub.environment)
    #expect(remote.status == 0, "\(remote.stderr)")
    #expect(try Self.options(remote.stdout)["structure_only"] as? Bool == true)
    let needed = Self.headerBytes([verifier, changed])
    let sent = try hub.cdnBytesSent()
    #expect(
      Double(sent) <= 1.05 * Double(needed.bytes) + Double(65536 * needed.files), "sent \(sent), needed \(needed)")
    print("ranged-read figures: diff headers-only needed=\(needed.bytes) sent=\(sent)")

    let directory = try TestPaths.temporaryDirectory()
    let localA = try Self.localCopy(verifier, in: directory, name: "a")
    let localB = try Self.localCopy(changed, in: directory, name: "b")
    let local = try runSpeculators(["diff", localA, localB, "--json"])
    #expect(local.status == 1)  // the bytes differ
    #expect(try Self.structure(remote.stdout) == Self.structure(local.stdout))
    #expect(remote.stdout.contains("\"bytes-not-read\""))

    // Text: says that no byte was compared.
    let text = try runSpeculators(["diff", "test/a", "test/b"], environment: hub.environment)
    #expect(text.status == 0)
    #expect(text.stdout.contains("Compared: structure only"), "\(text.stdout)")
    #expect(text.stdout.contains("of equal dtype and shape; bytes not read)"), "\(text.stdout)")

    // A Hub id against a local path: structure only too, no weights downloaded. (A Hub side
    // holds config.json and the weights only, so the local side's other files show as only in A.)
    hub.clearLog()
    let mixed = try runSpeculators(["diff", localA, "test/b", "--json"], environment: hub.environment)
    #expect(mixed.status == 1, "\(mixed.stderr)")
    #expect(try Self.structure(mixed.stdout) == Self.structure(local.stdout).flatMap { line in
      line.hasPrefix("metadata ") ? [line, "file generation_config.json only-in-a 1"] : [line]
    })
    #expect(try hub.cdnBytesSent() == 0)  // test/b's headers are cached
  }

  @Test("two Hub ids of different structure: the structural differences the local diff reports")
  func differentStructure() throws {
    let first = try HubSourceCommandTests.fixtureRepo("eagle3-embed")
    let second = try HubSourceCommandTests.fixtureRepo("eagle3-2layer")
    let hub = try HubEmulator(repos: ["test/one": first, "test/two": second])
    let remote = try runSpeculators(["diff", "test/one", "test/two", "--json"], environment: hub.environment)
    #expect(remote.status == 1, "\(remote.stderr)")
    let directory = try TestPaths.temporaryDirectory()
    let local = try runSpeculators(
      ["diff", try Self.localCopy(first, in: directory, name: "one"), try Self.localCopy(second, in: directory, name: "two"),
       "--json"])
    #expect(local.status == 1)
    #expect(try Self.structure(remote.stdout) == Self.structure(local.stdout))
    let needed = Self.headerBytes([first, second])
    #expect(try Double(hub.cdnBytesSent()) <= 1.05 * Double(needed.bytes) + Double(65536 * needed.files))
  }

  @Test("diff --values of Hub ids downloads the weights and equals the local --values diff")
  func valuesDownload() throws {
    let verifier = try HubSourceCommandTests.fixtureRepo("verifier")
    let changed = try Self.changedVerifier()
    let hub = try HubEmulator(repos: ["test/a": verifier, "test/b": changed])
    let remote = try runSpeculators(["diff", "test/a", "test/b", "--values", "--json"], environment: hub.environment)
    #expect(remote.status == 1, "\(remote.stderr)")
    #expect(try Self.options(remote.stdout)["structure_only"] as? Bool == false)
    let directory = try TestPaths.temporaryDirectory()
    let local = try runSpeculators(
      ["diff", try Self.localCopy(verifier, in: directory, name: "a"), try Self.localCopy(changed, in: directory, name: "b"),
       "--values", "--json"])
    func tensors(_ json: String) throws -> String {
      let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
      return String(decoding: try JSONSerialization.data(withJSONObject: report["tensors"] ?? [], options: [.sortedKeys]), as: UTF8.self)
    }
    #expect(try tensors(remote.stdout) == tensors(local.stdout))
    let weights = [verifier, changed].flatMap { $0.filter { $0.key.hasSuffix(".safetensors") }.map(\.value.count) }
    #expect(try hub.cdnBytesSent() >= weights.reduce(0, +))
  }
}
