import Foundation
import Inspect
import Testing

/// Runs the binary from the package root (fixture paths are relative to it).
func speculatorsAtRoot(_ arguments: [String]) throws -> CommandResult {
  try runSpeculators(arguments, environment: ["NO_COLOR": "1"], workingDirectory: TestPaths.packageRoot)
}

/// The sorted names in a directory.
func directoryNames(_ directory: URL) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}

/// A small convertible draft and its verifier, relative to the package root.
let smallDraftArguments = ["Fixtures/eagle1-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier"]

/// What convert may touch next to its output: only what the run itself created.
@Suite("convert touches only what it created")
struct ConvertOwnershipTests {
  @Test("directories named like convert's temporaries survive a convert untouched")
  func lookalikeDirectoriesSurvive() throws {
    let sib = try TestPaths.temporaryDirectory().appendingPathComponent("sib")
    let mine = [".out.tmp-mywork", ".out.old-mybackup"]
    for name in mine {
      try FileManager.default.createDirectory(
        at: sib.appendingPathComponent(name + "/nested"), withIntermediateDirectories: true)
      try Data((name + " precious").utf8).write(to: sib.appendingPathComponent(name + "/nested/file"))
    }
    let output = sib.appendingPathComponent("out")
    let result = try speculatorsAtRoot(["convert"] + smallDraftArguments + ["--output-path", output.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(directoryNames(sib) == (mine + ["out"]).sorted())
    for name in mine {
      let content = try String(contentsOf: sib.appendingPathComponent(name + "/nested/file"), encoding: .utf8)
      #expect(content == name + " precious")
    }
    #expect(directoryNames(output).contains("speculators-manifest.json"))
    #expect(!directoryNames(output).contains(where: { $0.hasPrefix(".speculators") }))
    // Replacing the output (--force) leaves them alone too.
    let again = try speculatorsAtRoot(["convert"] + smallDraftArguments + ["--output-path", output.path, "--force"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(directoryNames(sib) == (mine + ["out"]).sorted())
  }

  @Test("output names of 225 to 255 characters convert", arguments: [225, 240, 255])
  func longOutputNames(length: Int) throws {
    let parent = try TestPaths.temporaryDirectory()
    let name = String(repeating: "o", count: length)
    let output = parent.appendingPathComponent(name)
    let result = try speculatorsAtRoot(["convert"] + smallDraftArguments + ["--output-path", output.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(directoryNames(parent) == [name])
    #expect(directoryNames(output).contains("config.json"))
    let verify = try speculatorsAtRoot(["verify", output.path])
    #expect(verify.status != 2, "\(verify.stderr)")
  }
}
