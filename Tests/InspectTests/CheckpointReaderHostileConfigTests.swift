import Foundation
import Testing

@testable import Inspect

/// Runs every committed hostile config.json fixture (Fixtures/hostile/config) through the reader.
@Suite struct CheckpointReaderHostileConfigTests {
  struct Expectation: Decodable, Sendable {
    var kind: String
    var message: String
  }

  static let directory: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures/hostile/config")
  }()

  static let expected: [String: Expectation] = {
    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("expected.json").path),
      let decoded = try? JSONDecoder().decode([String: Expectation].self, from: data)
    else { return [:] }
    return decoded
  }()

  @Test func everyFixtureIsListed() throws {
    #expect(Self.expected.count >= 15)
    let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
      .filter { !["expected.json", "generate.py", "README.md"].contains($0) }
    #expect(Set(onDisk) == Set(Self.expected.keys))
  }

  @Test(arguments: expected.keys.sorted())
  func readerRejectsTheConfig(name: String) throws {
    let want = try #require(Self.expected[name])
    let path = Self.directory.appendingPathComponent(name).path
    let error = try #require(throws: CheckpointError.self) { _ = try CheckpointReader.open(path) }
    #expect(error.kind.rawValue == want.kind, "\(error)")
    #expect(error.description.contains(want.message), "got: \(error.description)")
    #expect(error.file == path + "/config.json")
    #expect(!error.description.contains("\n"))
  }

  @Test("a FIFO where a file should be is refused without waiting for a writer")
  func fifoIsRefused() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let weights = Self.directory.appendingPathComponent("duplicate-key/model.safetensors")
    try FileManager.default.copyItem(at: weights, to: directory.appendingPathComponent("model.safetensors"))
    let config = directory.appendingPathComponent("config.json").path
    #expect(mkfifo(config, 0o600) == 0)
    let error = try #require(throws: CheckpointError.self) { _ = try CheckpointReader.open(directory.path) }
    #expect(error.description.contains("config.json"), "\(error)")
    #expect(error.reason.contains("not a regular file"), "\(error)")
    let direct = try #require(throws: CheckpointError.self) { _ = try MappedFile(path: config) }
    #expect(direct.reason == "not a regular file")
  }
}
