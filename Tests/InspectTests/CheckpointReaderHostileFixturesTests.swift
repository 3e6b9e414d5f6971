import Foundation
import Testing

@testable import Inspect

/// Runs every committed hostile fixture (Fixtures/hostile/safetensors) through the reader.
@Suite struct CheckpointReaderHostileFixturesTests {
  static let directory: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures/hostile/safetensors")
  }()

  /// expected.json: fixture name → substring of the expected error reason.
  static let expected: [(name: String, reason: String)] = {
    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("expected.json").path),
      let members = (try? StrictJSONParser.parse(Array(data)))?.objectMembers
    else { return [] }
    return members.compactMap { member in member.value.stringValue.map { (member.key, $0) } }
  }()

  @Test func everyFixtureIsListed() throws {
    #expect(Self.expected.count >= 25)
    let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
      .filter { !["expected.json", "generate.py", "README.md"].contains($0) }
    #expect(Set(onDisk) == Set(Self.expected.map(\.name)))
  }

  @Test(arguments: expected.map(\.name))
  func readerRejectsWithTheExpectedMessage(name: String) throws {
    let reason = try #require(Self.expected.first { $0.name == name }?.reason)
    let path = Self.directory.appendingPathComponent(name).path
    let error = try #require(throws: CheckpointError.self) { _ = try CheckpointReader.open(path) }
    #expect(error.description.contains(reason), "got: \(error.description)")
    #expect(error.file.hasPrefix(path))
    #expect(!error.description.contains("\n"))
    if name.hasSuffix(".safetensors") {
      // The safetensors reader alone gives the same answer.
      let file = try MappedFile(path: path)
      let direct = try #require(throws: CheckpointError.self) { _ = try SafetensorsReader.readHeader(from: file) }
      #expect(direct == error)
    }
  }
}
