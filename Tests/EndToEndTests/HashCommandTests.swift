import Foundation
import Inspect
import Testing

@Suite(.enabled(if: VerifyE2E.readerAvailable, "CheckpointReader.open is not available yet"))
struct HashCommandTests {
  @Test(arguments: ["verifier", "eagle3-embed", "reference/eagle3-bin"])
  func sha256sumAcceptsTheOutputAndTensorDigestsMatchTheFixture(case name: String) throws {
    let directory = TestPaths.fixtures.appendingPathComponent(name)
    let result = try runSpeculators(["hash", directory.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.isEmpty)  // no progress line outside a terminal
    let scratch = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let sums = scratch.appendingPathComponent("SHA256SUMS")
    try Data(result.stdout.utf8).write(to: sums)
    let check = try runTool("/usr/bin/sha256sum", ["-c", "--strict", sums.path], in: directory)
    #expect(check.status == 0, "\(check.stdout)")
    #expect(!check.stdout.contains("FAILED"))

    let expected = try StrictJSONParser.parse(
      Array(Data(contentsOf: TestPaths.fixtures.appendingPathComponent("expected/\(name).json"))))
    let tensorLines = result.stdout.split(separator: "\n").filter {
      $0.hasPrefix("# ") && !$0.hasPrefix("# XXH3")
    }
    let table = expected["tensors"]?.objectMembers ?? []
    #expect(tensorLines.count == table.count)
    for (tensor, entry) in table {
      let digest = entry["xxh3_128"]?.stringValue ?? "?"
      #expect(tensorLines.contains("# \(digest)  \(tensor)"), "\(name): \(tensor)")
    }
    for file in expected["files"]?.arrayValue ?? [] {
      let line = "\(file["sha256"]?.stringValue ?? "?")  \(file["name"]?.stringValue ?? "?")"
      #expect(result.stdout.contains(line))
    }
  }

  @Test func jsonFollowsTheSchema() throws {
    let result = try runSpeculators(["hash", VerifyE2E.fixture("verifier"), "--json"])
    #expect(result.status == 0)
    #expect(try VerifyE2E.schemaErrors(result.stdout, schema: "hash-report.schema.json") == "")
    let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
    #expect(report["files"]?.arrayValue?.count == 5)
    let xxh3 = try runSpeculators(["hash", VerifyE2E.fixture("verifier"), "--json", "--algorithm", "xxh3"])
    #expect(try VerifyE2E.schemaErrors(xxh3.stdout, schema: "hash-report.schema.json") == "")
    #expect(xxh3.stdout.contains("\"file_digest\": \"xxh3_128\""))
  }

  @Test func xxh3FilesOnlyOutputIsWhatXxhsumPrints() throws {
    let directory = TestPaths.fixtures.appendingPathComponent("verifier")
    let result = try runSpeculators(["hash", directory.path, "--algorithm", "xxh3", "--files-only"])
    #expect(result.status == 0, "\(result.stderr)")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    let peer = try runTool("/usr/bin/xxhsum", ["-H2"] + names, in: directory)
    #expect(peer.status == 0)
    // xxhsum's progress display may reach the merged output as spaces and carriage returns.
    let peerLines = peer.stdout.split(separator: "\n").map { String($0.split(separator: "\r").last ?? "") }
    #expect(result.stdout.split(separator: "\n").map(String.init) == peerLines)
    #expect(peerLines.count == names.count)
  }

  @Test func filesOnlyAndTensorsOnlyTogetherAreAUsageError() throws {
    let result = try runSpeculators(["hash", VerifyE2E.fixture("verifier"), "--files-only", "--tensors-only"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--files-only and --tensors-only exclude each other"))
    #expect(result.stdout.isEmpty)
  }

  @Test func unreadableCheckpointIsAnInputError() throws {
    let result = try runSpeculators(["hash", "/nonexistent/checkpoint"])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("error: /nonexistent/checkpoint"))
    #expect(result.stdout.isEmpty)
  }
}

/// Runs a system tool in a directory.
func runTool(_ tool: String, _ arguments: [String], in directory: URL) throws -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: tool)
  process.arguments = arguments
  process.currentDirectoryURL = directory
  let out = Pipe()
  process.standardOutput = out
  process.standardError = out
  try process.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return CommandResult(
    status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
}
