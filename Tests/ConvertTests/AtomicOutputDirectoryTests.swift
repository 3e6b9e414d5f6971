import Foundation
import Inspect
import Testing

@testable import Convert

@Suite("AtomicOutputDirectory")
struct AtomicOutputDirectoryTests {
  func entries(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
  }

  @Test("files appear at the output path only on commit")
  func commit() throws {
    let parent = try makeTemporaryDirectory()
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    #expect(output.temporaryPath.hasPrefix(parent + "/.out.tmp-"))
    try "x".write(toFile: output.temporaryFile("a.txt"), atomically: false, encoding: .utf8)
    #expect(!FileManager.default.fileExists(atPath: parent + "/out"))
    try output.commit()
    #expect(try entries(parent) == ["out"])
    #expect(try entries(parent + "/out") == ["a.txt"])
  }

  @Test("discard leaves nothing behind")
  func discard() throws {
    let parent = try makeTemporaryDirectory()
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    try FileManager.default.createDirectory(
      atPath: output.temporaryFile("sub"), withIntermediateDirectories: true)
    try "x".write(toFile: output.temporaryFile("sub/a.txt"), atomically: false, encoding: .utf8)
    output.discard()
    #expect(try entries(parent).isEmpty)
  }

  @Test("an existing non-empty output is refused without force and replaced with it")
  func existing() throws {
    let parent = try makeTemporaryDirectory()
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    try "old".write(toFile: parent + "/out/old.txt", atomically: false, encoding: .utf8)
    let error = #expect(throws: ConversionError.self) {
      try AtomicOutputDirectory.create(at: parent + "/out", force: false)
    }
    #expect(error?.reason == "the output directory exists and is not empty (pass --force to replace it)")
    #expect(try entries(parent) == ["out"])
    let output = try AtomicOutputDirectory.create(at: parent + "/out", force: true)
    try "new".write(toFile: output.temporaryFile("new.txt"), atomically: false, encoding: .utf8)
    try output.commit()
    #expect(try entries(parent) == ["out"])
    #expect(try entries(parent + "/out") == ["new.txt"])
  }

  @Test("an empty existing directory is replaced without force")
  func emptyExisting() throws {
    let parent = try makeTemporaryDirectory()
    try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: true)
    let output = try AtomicOutputDirectory.create(at: parent + "/out/", force: false)
    try output.commit()
    #expect(try entries(parent) == ["out"])
  }

  @Test("an output path that is a file is refused, even with force")
  func file() throws {
    let parent = try makeTemporaryDirectory()
    try "x".write(toFile: parent + "/out", atomically: false, encoding: .utf8)
    for force in [false, true] {
      let error = #expect(throws: ConversionError.self) {
        try AtomicOutputDirectory.create(at: parent + "/out", force: force)
      }
      #expect(error?.reason == "the output path exists and is not a directory")
    }
    #expect(try entries(parent) == ["out"])
  }

  @Test("missing parents are created")
  func parents() throws {
    let parent = try makeTemporaryDirectory()
    let output = try AtomicOutputDirectory.create(at: parent + "/a/b/out", force: false)
    try output.commit()
    #expect(FileManager.default.fileExists(atPath: parent + "/a/b/out"))
  }
}
