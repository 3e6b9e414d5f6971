import Convert
import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

/// Header-only and single-tensor reads of Hub models by HTTP Range, measured with the emulator's
/// request log: bytes sent ≤ 1.05 × bytes needed + 64 KiB per file.
@Suite("Ranged reads of Hub models")
struct RangedReadTests {
  /// `8 + N` for each safetensors file of fixture `name`.
  static func headerBytes(_ repo: [String: [UInt8]]) -> [String: Int] {
    var result: [String: Int] = [:]
    for (name, bytes) in repo where name.hasSuffix(".safetensors") { result[name] = safetensorsHeaderBytes(bytes) }
    return result
  }

  /// Body bytes the CDN (which serves the weights) sent.
  static func weightBytesSent(_ hub: HubEmulator) throws -> Int {
    try hub.cdnBytesSent()
  }

  @Test("headers of a sharded verifier: real headers, absent data, the reader's tensors, within the byte bound")
  func headersOnly() throws {
    let verifier = try HubFixtureTests.repo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier])
    let source = try SourceResolver.resolve("test/tiny-llama", need: .headers, options: hub.options())
    #expect(source.isPartial)
    let shards = source.files.filter(\.isPartial)
    #expect(shards.map(\.name).sorted() == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    let local = try CheckpointReader.open(HubFixtureTests.fixtures.appendingPathComponent("verifier").path)
    let remote = try CheckpointReader.open(source.path)
    #expect(remote.tensors.map(\.name) == local.tensors.map(\.name))
    #expect(remote.tensors.map(\.shape) == local.tensors.map(\.shape))
    let localSizes = Dictionary(uniqueKeysWithValues: local.files.map { ($0.name, $0.size) })
    for file in remote.files { #expect(file.size == localSizes[file.name], "\(file.name)") }
    let headers = Self.headerBytes(verifier)
    for shard in shards {
      #expect(shard.ranges.map(\.length) == [Int64(headers[shard.name] ?? -1)])
      #expect(!shard.holds(offset: headers[shard.name] ?? 0, length: 1))
    }
    let needed = headers.values.reduce(0, +)
    let sent = try Self.weightBytesSent(hub)
    #expect(Double(sent) <= 1.05 * Double(needed) + Double(65536 * shards.count), "sent \(sent), needed \(needed)")
    print("ranged-read figures: headers-only needed=\(needed) sent=\(sent) whole=\(verifier.filter { $0.key.hasSuffix(".safetensors") }.map(\.value.count).reduce(0, +))")
    // Nothing ranged lands in the Hugging Face cache; a second run makes no request.
    let blobs = (try? FileManager.default.contentsOfDirectory(atPath: hub.cacheDirectory + "/models--test--tiny-llama/blobs")) ?? []
    #expect(blobs.count == 2, "\(blobs)")  // config.json and the index, whole
    hub.clearLog()
    let again = try SourceResolver.resolve("test/tiny-llama", need: .headers, options: hub.options())
    #expect(try hub.requests().isEmpty)
    #expect(again.path == source.path)
  }

  @Test("a header-only stand-in refuses every tensor read and the file digest; a fetched tensor reads as the original")
  func standInRefusesAbsentBytes() throws {
    let verifier = try HubFixtureTests.repo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier])
    let headers = try SourceResolver.resolve("test/tiny-llama", need: .headers, options: hub.options())
    let remote = try CheckpointReader.open(headers.path)
    let reader = TensorReader()
    for tensor in remote.tensors {
      do {
        _ = try reader.bytes(of: tensor)
        Issue.record("read \(tensor.name) from a header-only stand-in")
      } catch {
        #expect(error.kind == .notFetched, "\(tensor.name): \(error)")
        #expect(error.tensor == tensor.name)
        #expect(error.file == tensor.file)
      }
    }
    for shard in headers.files where shard.isPartial {
      #expect(throws: CheckpointError.self) { _ = try CheckpointHasher.sha256(ofFile: shard.localPath) }
    }
    // After the embedding's range is fetched, that tensor reads as in the original file.
    let embeddings = try SourceResolver.resolve("test/tiny-llama", need: .embeddings, options: hub.options())
    let partial = try CheckpointReader.open(embeddings.path)
    let local = try CheckpointReader.open(HubFixtureTests.fixtures.appendingPathComponent("verifier").path)
    let name = "model.embed_tokens.weight"
    let fetched = try TensorReader().bytes(of: try #require(partial.tensor(named: name)))
    #expect(fetched == (try TensorReader().bytes(of: try #require(local.tensor(named: name)))))
    let other = try #require(partial.tensors.first { $0.name != name })
    #expect(throws: CheckpointError.self) { _ = try TensorReader().bytes(of: other) }
  }

  @Test("a server that ignores Range: the reader stops after the needed bytes and says so")
  func ignoredRange() throws {
    let verifier = try HubFixtureTests.repo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier], arguments: ["--no-range"])
    let events = EventLog()
    let source = try SourceResolver.resolve(
      "test/tiny-llama", need: .headers, options: hub.options(progress: DownloadProgress { events.append($0) }))
    let remote = try CheckpointReader.open(source.path)
    let local = try CheckpointReader.open(HubFixtureTests.fixtures.appendingPathComponent("verifier").path)
    #expect(remote.tensors.map(\.name) == local.tensors.map(\.name))
    let notices = events.all.compactMap { event -> String? in
      if case .notice(_, let message) = event { return message }
      return nil
    }
    #expect(!notices.isEmpty)
    #expect(notices.allSatisfy { $0.contains("ignores Range requests") })
  }

  @Test("convert against a Hub verifier reads only the embedding's range; output equals the local conversion")
  func convertReadsOneTensor() throws {
    let parent = FileManager.default.temporaryDirectory.path + "/ranged-convert-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: parent) }
    let verifier = try HubFixtureTests.repo("verifier")
    let hub = try HubEmulator(repos: ["test/tiny-llama": verifier])
    let options = hub.options()
    let draft = HubFixtureTests.fixtures.appendingPathComponent("eagle3-bin").path
    let fetch: SourceFetcher = { reference, need in
      try SourceResolver.resolve(reference, need: need, options: options)
    }
    _ = try Converter.convert(
      ConversionRequest(
        model: .local(draft), verifier: try SourceResolver.resolve("test/tiny-llama", need: .configOnly, options: options),
        fetch: fetch, algorithm: .eagle3, outputPath: parent + "/remote", algorithmKwargs: try taps()))
    _ = try Converter.convert(
      ConversionRequest(
        model: draft, verifier: HubFixtureTests.fixtures.appendingPathComponent("verifier").path, algorithm: .eagle3,
        outputPath: parent + "/local", algorithmKwargs: try taps()))
    let remoteWeights = contents(parent + "/remote/model.safetensors")
    #expect(remoteWeights != nil && remoteWeights == contents(parent + "/local/model.safetensors"))
    // config.json differs only in verifier.name_or_path, which names the verifier as given.
    let remoteConfig = String(decoding: try #require(contents(parent + "/remote/config.json")), as: UTF8.self)
    let localConfig = String(decoding: try #require(contents(parent + "/local/config.json")), as: UTF8.self)
    let localVerifier = HubFixtureTests.fixtures.appendingPathComponent("verifier").path
    #expect(remoteConfig == localConfig.replacingOccurrences(of: "\"\(localVerifier)\"", with: "\"test/tiny-llama\""))
    let manifest = try AuditManifest(contentsOf: parent + "/remote/speculators-manifest.json")
    let fetched = try #require(manifest.verifier.embeddingsFetched)
    #expect(fetched.file == "model-00001-of-00002.safetensors")
    let shard = try #require(verifier[fetched.file])
    let bytes = Array(shard[Int(fetched.offset)..<Int(fetched.offset + fetched.length)])
    #expect(try fetched.sha256 == sha256Hex(bytes))
    let local = try AuditManifest(contentsOf: parent + "/local/speculators-manifest.json")
    #expect(local.verifier.embeddingsFetched == nil)
    #expect(manifest.tensors == local.tensors)
    let needed = (Self.headerBytes(verifier)[fetched.file] ?? 0) + Int(fetched.length)
    let sent = try Self.weightBytesSent(hub)
    #expect(Double(sent) <= 1.05 * Double(needed) + 65536, "sent \(sent), needed \(needed)")
    print("ranged-read figures: convert needed=\(needed) sent=\(sent) shard=\(shard.count)")
    #expect(try !hub.requests().contains { $0.path.contains("model-00002-of-00002") })
  }
}

/// Explicit auxiliary layer ids for the 4-layer fixture verifier (vLLM's defaults repeat a layer).
func taps() throws -> AlgorithmKwargs {
  try AlgorithmKwargs(parsing: #"{"eagle_aux_hidden_state_layer_ids": [1, 2, 3]}"#)
}
