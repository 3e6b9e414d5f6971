import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

@Suite("URL sources")
struct URLSourceTests {
  static let files: [String: [UInt8]] = [
    "plain/config.json": Array(#"{"hidden_size": 64}"#.utf8),
    "plain/model.safetensors": fakeWeights(200_000, seed: 7),
  ]

  @Test("a file URL downloads the file and config.json beside it, then hits the cache")
  func fileURL() throws {
    let hub = try HubEmulator(repos: [:], staticFiles: Self.files)
    let url = hub.cdn + "/files/plain/model.safetensors"
    let source = try SourceResolver.resolve(url, need: .checkpoint, options: hub.options())
    #expect(source.origin == .url)
    #expect(source.url == url)
    #expect(source.path.hasSuffix("/files/model.safetensors"))
    #expect(contents(source.path) == Self.files["plain/model.safetensors"])
    #expect(Set(source.downloadedFiles) == ["config.json", "model.safetensors"])

    hub.clearLog()
    let again = try SourceResolver.resolve(url, need: .checkpoint, options: hub.options())
    #expect(again.downloadedFiles.isEmpty)
    #expect(again.path == source.path)
    #expect(try hub.requests().isEmpty)
  }

  @Test("a directory-like base probes the names transformers tries")
  func directoryURL() throws {
    let hub = try HubEmulator(repos: [:], staticFiles: Self.files)
    let source = try SourceResolver.resolve(hub.cdn + "/files/plain/", need: .checkpoint, options: hub.options())
    #expect(Set(source.files.map(\.name)) == ["config.json", "model.safetensors"])
    #expect(contents(source.path + "/model.safetensors") == Self.files["plain/model.safetensors"])
    let probed = try hub.requests().map(\.path)
    #expect(probed == ["/files/plain/config.json", "/files/plain/model.safetensors.index.json", "/files/plain/model.safetensors"])
    // The 404 is remembered: offline, the same base resolves from the cache.
    hub.clearLog()
    let offline = try SourceResolver.resolve(hub.cdn + "/files/plain/", need: .checkpoint, options: hub.options(offline: true))
    #expect(offline.path == source.path)
    #expect(try hub.requests().isEmpty)
  }

  @Test("a #sha256= fragment is verified, and a mismatch keeps nothing")
  func fragmentChecksum() throws {
    let hub = try HubEmulator(repos: [:], staticFiles: Self.files)
    let good = try sha256Hex(#require(Self.files["plain/model.safetensors"]))
    let bad = String(repeating: "0", count: 64)
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve(
        hub.cdn + "/files/plain/model.safetensors#sha256=" + bad, need: .checkpoint, options: hub.options())
    }
    #expect(error?.reason == "checksum mismatch: the source says sha256 \(bad), the downloaded bytes hash to \(good); nothing was kept")
    let source = try SourceResolver.resolve(
      hub.cdn + "/files/plain/model.safetensors#sha256=" + good, need: .checkpoint, options: hub.options())
    #expect(source.files.first { $0.name == "model.safetensors" }?.sha256 == good)
  }

  @Test("a missing file URL is a clear error and leaves no partial file")
  func missingFile() throws {
    let hub = try HubEmulator(repos: [:], staticFiles: Self.files)
    let url = hub.cdn + "/files/plain/nope.safetensors"
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve(url, need: .checkpoint, options: hub.options())
    }
    #expect(error?.description == url + ": HTTP 404")
    let incomplete = try FileManager.default.subpathsOfDirectory(atPath: hub.workspace.path + "/urls")
    #expect(!incomplete.contains { $0.hasSuffix("nope.safetensors") })
  }
}
