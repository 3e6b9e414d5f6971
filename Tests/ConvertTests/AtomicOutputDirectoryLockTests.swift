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
    let error = #expect(throws: CheckpointError.self) {
      try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    }
    #expect(error?.kind == .io)
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

  @Test("leftovers of killed writers are removed by the next writer")
  func leftoversAreRemoved() throws {
    let parent = try makeTemporaryDirectory()
    for leftover in [".out.tmp-123-abc", ".out.old-123-def"] {
      try FileManager.default.createDirectory(
        atPath: parent + "/" + leftover + "/sub", withIntermediateDirectories: true)
      try "x".write(toFile: parent + "/" + leftover + "/sub/f", atomically: false, encoding: .utf8)
    }
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    try "current".write(toFile: parent + "/out/a", atomically: false, encoding: .utf8)
    // A stale lock file (its holder was killed) does not block anyone.
    try "".write(toFile: parent + "/.out.lock", atomically: false, encoding: .utf8)
    // Other outputs' leftovers are not touched.
    try FileManager.default.createDirectory(atPath: parent + "/.outer.tmp-1-2", withIntermediateDirectories: true)
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    let temporary = (output.temporaryPath as NSString).lastPathComponent
    #expect(try entries(parent) == [".out.lock", ".outer.tmp-1-2", "out", temporary].sorted())
    try "new".write(toFile: output.temporaryFile("b"), atomically: false, encoding: .utf8)
    try output.commit()
    #expect(try entries(parent) == [".outer.tmp-1-2", "out"])
    #expect(try entries(parent + "/out") == ["b"])
  }

  @Test("a previous output renamed aside by a killed writer is put back")
  func renamedAsideOutputIsRestored() throws {
    let parent = try makeTemporaryDirectory()
    try FileManager.default.createDirectory(atPath: parent + "/.out.old-9-9", withIntermediateDirectories: true)
    try "previous".write(toFile: parent + "/.out.old-9-9/a", atomically: false, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: parent + "/.out.tmp-9-8", withIntermediateDirectories: true)
    // Without --force the restored previous output is kept, as it would have been.
    let error = #expect(throws: CheckpointError.self) {
      try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    }
    #expect(error?.reason == "the output directory exists and is not empty (pass --force to replace it)")
    #expect(try entries(parent) == ["out"])
    #expect(try String(contentsOfFile: parent + "/out/a", encoding: .utf8) == "previous")
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
