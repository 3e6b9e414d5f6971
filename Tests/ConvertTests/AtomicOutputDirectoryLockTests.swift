import Foundation
import Inspect
import Testing

@testable import Convert

/// The writer lock and the clean-up after killed writers (the end-to-end kill and race tests
/// are in EndToEndTests/OutputSafetyTests).
@Suite("AtomicOutputDirectory lock and recovery")
struct AtomicOutputDirectoryLockTests {
  func entries(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
  }

  @Test("a second writer of the same output is refused until the first commits or discards")
  func secondWriterIsRefused() throws {
    let parent = try makeTemporaryDirectory()
    let first = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    #expect(FileManager.default.fileExists(atPath: parent + "/.out.lock"))
    let error = #expect(throws: ConversionError.self) {
      try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    }
    #expect(error?.kind == .output)
    #expect(
      error?.reason == "another convert is writing this output (it holds \(parent)/.out.lock); try again when it "
        + "has finished")
    // Another output in the same parent is not affected.
    let other = try AtomicOutputDirectory.create(at: parent + "/other", force: false)
    other.discard()
    first.discard()
    let second = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    try second.commit()
    #expect(try entries(parent) == ["out"])
  }

  /// A leftover of a killed writer: `.out.tmp-<token>` holding the marker with its token.
  func makeLeftover(in parent: String, token: String = AtomicOutputDirectory.newToken()) throws -> String {
    let name = ".out.tmp-" + token
    try FileManager.default.createDirectory(atPath: parent + "/" + name + "/sub", withIntermediateDirectories: true)
    try "x".write(toFile: parent + "/" + name + "/sub/f", atomically: false, encoding: .utf8)
    try token.write(
      toFile: parent + "/" + name + "/" + AtomicOutputDirectory.markerName, atomically: false, encoding: .utf8)
    return name
  }

  @Test("leftovers of killed writers (marked with their token) are removed by the next writer")
  func leftoversAreRemoved() throws {
    let parent = try makeTemporaryDirectory()
    _ = try makeLeftover(in: parent)
    _ = try makeLeftover(in: parent)
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    try "current".write(toFile: parent + "/out/a", atomically: false, encoding: .utf8)
    // A stale lock file (its holder was killed) does not block anyone.
    #expect(FileManager.default.createFile(atPath: parent + "/.out.lock", contents: Data(OutputLock.content)))
    // Other outputs' leftovers are not touched.
    try FileManager.default.createDirectory(atPath: parent + "/.outer.tmp-1-2", withIntermediateDirectories: true)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    let temporary = (output.temporaryPath as NSString).lastPathComponent
    #expect(try entries(parent) == [".out.lock", ".outer.tmp-1-2", "out", temporary].sorted())
    #expect(try entries(output.temporaryPath) == [AtomicOutputDirectory.markerName])
    try "new".write(toFile: output.temporaryFile("b"), atomically: false, encoding: .utf8)
    try output.commit()
    #expect(try entries(parent) == [".outer.tmp-1-2", "out"])
    #expect(try entries(parent + "/out") == ["b"])
  }

  @Test("directories named like temporaries but not made by a convert are never touched")
  func lookalikesSurvive() throws {
    let parent = try makeTemporaryDirectory()
    let token = AtomicOutputDirectory.newToken()
    let lookalikes = [
      ".out.tmp-mywork", ".out.old-mybackup", ".out.tmp-123-abc", ".out.old-9-9",
      // The right shape of name, but no marker, or a marker naming another token.
      ".out.tmp-" + token, ".out.tmp-" + AtomicOutputDirectory.newToken(), ".out.old-" + token,
    ]
    for (index, name) in lookalikes.enumerated() {
      try FileManager.default.createDirectory(atPath: parent + "/" + name, withIntermediateDirectories: true)
      try "mine \(index)".write(toFile: parent + "/\(name)/a", atomically: false, encoding: .utf8)
    }
    try token.write(
      toFile: parent + "/" + lookalikes[5] + "/" + AtomicOutputDirectory.markerName, atomically: false,
      encoding: .utf8)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    try "new".write(toFile: output.temporaryFile("b"), atomically: false, encoding: .utf8)
    try output.commit()
    #expect(try entries(parent) == (lookalikes + ["out"]).sorted())
    #expect(try entries(parent + "/out") == ["b"])
    for (index, name) in lookalikes.enumerated() {
      #expect(try String(contentsOfFile: parent + "/\(name)/a", encoding: .utf8) == "mine \(index)")
    }
  }

  @Test("a previous output renamed aside by a killed writer is left where it is, never renamed into place")
  func renamedAsideOutputIsLeftAlone() throws {
    let parent = try makeTemporaryDirectory()
    let aside = ".out.old-" + AtomicOutputDirectory.newToken()
    try FileManager.default.createDirectory(atPath: parent + "/" + aside, withIntermediateDirectories: true)
    try "previous".write(toFile: parent + "/\(aside)/a", atomically: false, encoding: .utf8)
    let leftover = try makeLeftover(in: parent)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    #expect(!FileManager.default.fileExists(atPath: parent + "/" + leftover))
    output.discard()
    #expect(try entries(parent) == [aside])
    #expect(try String(contentsOfFile: parent + "/\(aside)/a", encoding: .utf8) == "previous")
  }

  /// A lock file left by a writer killed while committing: the plain content and its record.
  func writeCommitRecord(in parent: String, token: String) throws {
    let record = String(decoding: OutputLock.content, as: UTF8.self) + "committing \(token)\n"
    try record.write(toFile: parent + "/.out.lock", atomically: false, encoding: .utf8)
  }

  @Test("a writer killed while committing: its recorded, unmarked temporary is removed, nothing else")
  func killedCommitIsRecovered() throws {
    let parent = try makeTemporaryDirectory()
    // Killed after the exchange: the previous output sits, unmarked, at the recorded temporary.
    let token = AtomicOutputDirectory.newToken()
    try FileManager.default.createDirectory(atPath: parent + "/.out.tmp-\(token)/sub", withIntermediateDirectories: true)
    try "previous".write(toFile: parent + "/.out.tmp-\(token)/sub/a", atomically: false, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    try "new".write(toFile: parent + "/out/a", atomically: false, encoding: .utf8)
    // An unmarked look-alike with another token is not the recorded writer's.
    let other = ".out.tmp-" + AtomicOutputDirectory.newToken()
    try FileManager.default.createDirectory(atPath: parent + "/" + other, withIntermediateDirectories: true)
    try "mine".write(toFile: parent + "/\(other)/a", atomically: false, encoding: .utf8)
    try writeCommitRecord(in: parent, token: token)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    let temporary = (output.temporaryPath as NSString).lastPathComponent
    #expect(try entries(parent) == [".out.lock", other, "out", temporary].sorted())
    // The record is consumed: the lock file holds the plain content again.
    #expect(try Data(contentsOf: URL(fileURLWithPath: parent + "/.out.lock")) == Data(OutputLock.content))
    output.discard()
    #expect(try entries(parent) == [other, "out"].sorted())
    #expect(try String(contentsOfFile: parent + "/out/a", encoding: .utf8) == "new")
    #expect(try String(contentsOfFile: parent + "/\(other)/a", encoding: .utf8) == "mine")
  }

  @Test("a killed commit that moved the previous output aside with nothing in its place leaves both for the user")
  func killedCommitBetweenRenamesIsLeft() throws {
    let parent = try makeTemporaryDirectory()
    let token = AtomicOutputDirectory.newToken()
    for (name, text) in [(".out.tmp-\(token)", "new"), (".out.old-\(token)", "previous")] {
      try FileManager.default.createDirectory(atPath: parent + "/" + name, withIntermediateDirectories: true)
      try text.write(toFile: parent + "/\(name)/a", atomically: false, encoding: .utf8)
    }
    try writeCommitRecord(in: parent, token: token)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    output.discard()
    #expect(try entries(parent) == [".out.old-\(token)", ".out.tmp-\(token)"])
    // Once the output path holds the new output, the moved-aside previous one is deleted.
    try FileManager.default.moveItem(atPath: parent + "/.out.tmp-\(token)", toPath: parent + "/out")
    try writeCommitRecord(in: parent, token: token)
    try AtomicOutputDirectory.create(at: parent + "/out", force: true).discard()
    #expect(try entries(parent) == ["out"])
    #expect(try String(contentsOfFile: parent + "/out/a", encoding: .utf8) == "new")
  }

  @Test("a commit record that is not well formed makes the lock file foreign")
  func malformedCommitRecord() throws {
    let parent = try makeTemporaryDirectory()
    let base = String(decoding: OutputLock.content, as: UTF8.self)
    for content in [base + "committing xyz\n", base + "committing " + AtomicOutputDirectory.newToken(), base + "x"] {
      try content.write(toFile: parent + "/.out.lock", atomically: false, encoding: .utf8)
      let error = #expect(throws: ConversionError.self) {
        try AtomicOutputDirectory.create(at: parent + "/out", force: false)
      }
      #expect(error?.reason.hasSuffix("is not a convert lock file; remove it or choose another output path") == true)
      #expect(try String(contentsOfFile: parent + "/.out.lock", encoding: .utf8) == content)
    }
  }

  @Test("a file at the lock path that a convert did not make is refused and kept")
  func foreignLockFile() throws {
    let parent = try makeTemporaryDirectory()
    for content in ["my notes\n", String(repeating: "x", count: 100)] {
      try content.write(toFile: parent + "/.out.lock", atomically: false, encoding: .utf8)
      let error = #expect(throws: ConversionError.self) {
        try AtomicOutputDirectory.create(at: parent + "/out", force: false)
      }
      #expect(
        error?.reason == "\(parent)/.out.lock exists and is not a convert lock file; remove it or choose another "
          + "output path")
      #expect(try entries(parent) == [".out.lock"])
      #expect(try String(contentsOfFile: parent + "/.out.lock", encoding: .utf8) == content)
    }
  }

  @Test("an empty lock file or an empty token-named directory (a writer killed while creating them) is reused")
  func emptyLeftovers() throws {
    let parent = try makeTemporaryDirectory()
    try "".write(toFile: parent + "/.out.lock", atomically: false, encoding: .utf8)
    let empty = ".out.tmp-" + AtomicOutputDirectory.newToken()
    try FileManager.default.createDirectory(atPath: parent + "/" + empty, withIntermediateDirectories: true)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    #expect(!FileManager.default.fileExists(atPath: parent + "/" + empty))
    #expect(try String(contentsOfFile: parent + "/.out.lock", encoding: .utf8) == "speculators convert lock\n")
    output.discard()
    #expect(try entries(parent).isEmpty)
  }

  @Test("a token-named directory holding only its marker cut short (a writer killed while writing it) is removed")
  func partialMarker() throws {
    let parent = try makeTemporaryDirectory()
    var kept: [String] = []
    for length in [0, 1, 31] {
      let token = AtomicOutputDirectory.newToken()
      let name = ".out.tmp-" + token
      try FileManager.default.createDirectory(atPath: parent + "/" + name, withIntermediateDirectories: true)
      try String(token.prefix(length)).write(
        toFile: parent + "/" + name + "/" + AtomicOutputDirectory.markerName, atomically: false, encoding: .utf8)
    }
    // Not a prefix of its own token, or beside other files: left alone.
    for (marker, extra) in [("x", false), ("", true)] {
      let token = AtomicOutputDirectory.newToken()
      let name = ".out.tmp-" + token
      try FileManager.default.createDirectory(atPath: parent + "/" + name, withIntermediateDirectories: true)
      try marker.write(toFile: parent + "/" + name + "/" + AtomicOutputDirectory.markerName, atomically: false, encoding: .utf8)
      if extra { try "mine".write(toFile: parent + "/" + name + "/a", atomically: false, encoding: .utf8) }
      kept.append(name)
    }
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    output.discard()
    #expect(try entries(parent) == kept.sorted())
    for name in kept {
      #expect(FileManager.default.fileExists(atPath: parent + "/" + name + "/" + AtomicOutputDirectory.markerName))
    }
  }

  @Test("output names of 225 to 255 bytes get siblings within NAME_MAX", arguments: [225, 240, 250, 255])
  func longNames(length: Int) throws {
    let parent = try makeTemporaryDirectory()
    for name in [String(repeating: "n", count: length), String(repeating: "é", count: length / 2)] {
      let output = try AtomicOutputDirectory.create(at: parent + "/" + name, force: false)
      let siblings = try entries(parent)
      #expect(siblings.count == 2)
      #expect(siblings.allSatisfy { $0.utf8.count <= 255 })
      #expect(siblings.contains { $0.hasSuffix(".lock") })
      try "new".write(toFile: output.temporaryFile("b"), atomically: false, encoding: .utf8)
      try output.commit()
      #expect(try entries(parent) == [name])
      #expect(try entries(parent + "/" + name) == ["b"])
      try FileManager.default.removeItem(atPath: parent + "/" + name)
    }
    // Two long names sharing their first 230 bytes still get different siblings.
    let stem = String(repeating: "s", count: 230)
    let first = try AtomicOutputDirectory.create(at: parent + "/" + stem + "1" + String(repeating: "x", count: 20), force: false)
    let second = try AtomicOutputDirectory.create(at: parent + "/" + stem + "2" + String(repeating: "x", count: 20), force: false)
    #expect(try entries(parent).count == 4)
    first.discard()
    second.discard()
    #expect(try entries(parent).isEmpty)
  }

  #if os(Linux)
    @Test("renameat2(RENAME_EXCHANGE) is found and swaps two directories")
    func exchange() throws {
      let parent = try makeTemporaryDirectory()
      for name in ["a", "b"] {
        try FileManager.default.createDirectory(atPath: parent + "/" + name, withIntermediateDirectories: true)
        try name.write(toFile: parent + "/\(name)/file", atomically: false, encoding: .utf8)
      }
      #expect(AtomicOutputDirectory.exchange(parent + "/a", parent + "/b"))
      #expect(try String(contentsOfFile: parent + "/a/file", encoding: .utf8) == "b")
      #expect(try String(contentsOfFile: parent + "/b/file", encoding: .utf8) == "a")
      #expect(!AtomicOutputDirectory.exchange(parent + "/a", parent + "/missing"))
    }
  #endif

  @Test("replacing an output leaves exactly the new one")
  func replaceExchanges() throws {
    let parent = try makeTemporaryDirectory()
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    try "old".write(toFile: parent + "/out/a", atomically: false, encoding: .utf8)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    try "new".write(toFile: output.temporaryFile("a"), atomically: false, encoding: .utf8)
    try output.commit()
    #expect(try String(contentsOfFile: parent + "/out/a", encoding: .utf8) == "new")
    #expect(try entries(parent) == ["out"])
  }
}
