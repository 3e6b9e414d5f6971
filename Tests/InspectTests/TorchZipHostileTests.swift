import Foundation
import Testing

@testable import Inspect

/// The hostile corpus of scripts/make_hostile_torch.py: every file must be refused with the
/// recorded kind and message, and nothing may crash.
@Suite struct TorchZipHostileTests {
  struct Expectation: Decodable, Sendable {
    var kind: String
    var message: String
  }

  static let expected: [String: Expectation] = {
    guard let data = FileManager.default.contents(atPath: TorchFixtures.hostilePath("expected.json")),
      let decoded = try? JSONDecoder().decode([String: Expectation].self, from: data)
    else { return [:] }
    return decoded
  }()

  @Test func corpusIsListedCompletely() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: TorchFixtures.hostilePath(""))
    #expect(Self.expected.count >= 40)
    #expect(Set(files) == Set(Self.expected.keys).union(["expected.json"]))
  }

  @Test(arguments: expected.keys.sorted())
  func refusesHostileFile(name: String) throws {
    let want = try #require(Self.expected[name])
    let path = TorchFixtures.hostilePath(name)
    let error = caughtError { _ = try TorchZipReader.readTensors(from: try MappedFile(path: path)) }
    let got = try #require(error, "\(name) was accepted")
    #expect(got.kind.rawValue == want.kind, "\(name): \(got)")
    #expect(got.reason.contains(want.message), "\(name): \(got)")
    #expect(got.file == path)
    #expect(!got.description.contains("\n"), "messages are one line")
  }
}
