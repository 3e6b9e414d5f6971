import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

/// Header-only and single-tensor reads of URL sources by HTTP Range, measured with the
/// emulator's request log: bytes sent ≤ 1.05 × bytes needed + 64 KiB per file, where the
/// needed bytes are config.json and the index (whole) plus each safetensors header and tensor.
@Suite("Ranged reads of URL sources")
struct RangedURLTests {
  /// The verifier fixture served under `/files/verifier/`.
  static func staticVerifier() throws -> [String: [UInt8]] {
    staticFiles(try HubFixtureTests.repo("verifier"), under: "verifier/", excluding: ["generation_config.json"])
  }

  static func wholeMetadataBytes(_ files: [String: [UInt8]]) -> Int {
    files.filter { $0.key.hasSuffix(".json") }.map(\.value.count).reduce(0, +)
  }

  static var local: Checkpoint {
    get throws { try CheckpointReader.open(HubFixtureTests.fixtures.appendingPathComponent("verifier").path) }
  }

  @Test("a directory URL: headers by range, the local tensors, within the byte bound; a second run makes no request")
  func directoryHeaders() throws {
    let files = try Self.staticVerifier()
    let hub = try HubEmulator(repos: [:], staticFiles: files)
    let base = hub.cdn + "/files/verifier/"
    let source = try SourceResolver.resolve(base, need: .headers, options: hub.options())
    #expect(source.origin == .url)
    #expect(source.isPartial)
    #expect(
      source.files.filter(\.isPartial).map(\.name).sorted()
        == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    let remote = try CheckpointReader.open(source.path)
    let local = try Self.local
    #expect(remote.tensors.map(\.name) == local.tensors.map(\.name))
    #expect(remote.tensors.map(\.shape) == local.tensors.map(\.shape))
    let headers = RangedReadTests.headerBytes(try HubFixtureTests.repo("verifier"))
    let needed = headers.values.reduce(0, +) + Self.wholeMetadataBytes(files)
    let sent = try hub.cdnBytesSent()
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * 4), "sent \(sent), needed \(needed)")
    print("ranged-read figures: URL headers-only needed=\(needed) sent=\(sent)")
    // Tensor bytes were not fetched, and the reader says so.
    #expect(throws: CheckpointError.self) { _ = try TensorReader().bytes(of: try #require(remote.tensors.first)) }
    hub.clearLog()
    let again = try SourceResolver.resolve(base, need: .headers, options: hub.options())
    #expect(try hub.requests().isEmpty)
    #expect(again.path == source.path)
    // Offline, from the caches alone.
    let offline = try SourceResolver.resolve(base, need: .headers, options: hub.options(offline: true))
    #expect(offline.path == source.path)
  }

  @Test("a URL naming one shard: its header only, config.json beside it")
  func fileHeaders() throws {
    let files = try Self.staticVerifier()
    let hub = try HubEmulator(repos: [:], staticFiles: files)
    let shard = "model-00002-of-00002.safetensors"
    let source = try SourceResolver.resolve(hub.cdn + "/files/verifier/" + shard, need: .headers, options: hub.options())
    #expect(source.path.hasSuffix("/" + shard))
    #expect(Set(source.files.map(\.name)) == ["config.json", shard])
    let remote = try CheckpointReader.open(source.path)
    let local = try CheckpointReader.open(HubFixtureTests.fixtures.appendingPathComponent("verifier/" + shard).path)
    #expect(remote.tensors.map(\.name) == local.tensors.map(\.name))
    let needed = (RangedReadTests.headerBytes(try HubFixtureTests.repo("verifier"))[shard] ?? 0)
      + (files["verifier/config.json"]?.count ?? 0)
    let sent = try hub.cdnBytesSent()
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * 2), "sent \(sent), needed \(needed)")
  }

  @Test("the embeddings of a URL verifier: the one tensor's range, its bytes as in the file")
  func embeddings() throws {
    let files = try Self.staticVerifier()
    let hub = try HubEmulator(repos: [:], staticFiles: files)
    let source = try SourceResolver.resolve(hub.cdn + "/files/verifier/", need: .embeddings, options: hub.options())
    let shard = try #require(source.files.first { $0.isPartial })
    #expect(shard.name == "model-00001-of-00002.safetensors")
    let remote = try CheckpointReader.open(shard.localPath)  // the one file fetched, as convert opens it
    let name = "model.embed_tokens.weight"
    let tensor = try #require(remote.tensor(named: name))
    let bytes = try TensorReader().bytes(of: tensor)
    #expect(bytes == (try TensorReader().bytes(of: try #require(try Self.local.tensor(named: name)))))
    let needed = (RangedReadTests.headerBytes(try HubFixtureTests.repo("verifier"))[shard.name] ?? 0) + bytes.count
      + Self.wholeMetadataBytes(files)
    let sent = try hub.cdnBytesSent()
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * 3), "sent \(sent), needed \(needed)")
    print("ranged-read figures: URL embeddings needed=\(needed) sent=\(sent)")
    #expect(try !hub.requests().contains { $0.path.hasSuffix("model-00002-of-00002.safetensors") })
  }

  @Test("a URL whose server names no ETag: the file is downloaded whole, never cached by range")
  func noValidator() throws {
    let files = try Self.staticVerifier()
    let hub = try HubEmulator(repos: [:], staticFiles: files, arguments: ["--static-no-etag"])
    let source = try SourceResolver.resolve(hub.cdn + "/files/verifier/", need: .headers, options: hub.options())
    #expect(!source.isPartial)
    let shards = source.files.filter { $0.name.hasSuffix(".safetensors") }
    #expect(shards.count == 2)
    for shard in shards {
      #expect(contents(shard.localPath) == files["verifier/" + shard.name])
    }
    let remote = try CheckpointReader.open(source.path)
    #expect(remote.tensors.map(\.name) == (try Self.local.tensors.map(\.name)))
    // Whole files read their tensors.
    #expect(try !TensorReader().bytes(of: try #require(remote.tensors.first)).isEmpty)
  }

  @Test("a URL server that ignores Range: reading stops after the needed bytes, with a notice")
  func ignoredRange() throws {
    let hub = try HubEmulator(repos: [:], staticFiles: try Self.staticVerifier(), arguments: ["--no-range"])
    let events = EventLog()
    let source = try SourceResolver.resolve(
      hub.cdn + "/files/verifier/", need: .headers, options: hub.options(progress: DownloadProgress { events.append($0) }))
    #expect(try CheckpointReader.open(source.path).tensors.map(\.name) == (try Self.local.tensors.map(\.name)))
    let notices = events.all.compactMap { event -> String? in
      if case .notice(_, let message) = event { return message }
      return nil
    }
    #expect(!notices.isEmpty && notices.allSatisfy { $0.contains("ignores Range requests") })
  }
}
