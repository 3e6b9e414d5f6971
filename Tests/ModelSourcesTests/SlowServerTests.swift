import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

/// Servers that trickle, never end, or ignore limits: every request is bounded.
@Suite("Slow and endless servers")
struct SlowServerTests {
  /// Limits small enough for a test: abandon below 1 KB/s after 2 s. The connect and read
  /// timeouts are far longer, so that on a loaded machine the low-speed limit is what fires.
  let quick = TransferLimits(connectTimeout: 120, readTimeout: 120, lowSpeedLimit: 1024, lowSpeedTime: 2)

  @Test("a weights file trickled a byte a second is abandoned by the low-speed limit, naming host and file")
  func trickledWeights() throws {
    let hub = try HubEmulator(
      repos: ["org/model": singleFileRepo], arguments: ["--trickle", "model.safetensors", "--trickle-interval", "1"])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(limits: quick))
    }
    #expect(error?.file == "org/model: model.safetensors")
    #expect(error?.reason.contains("below the low-speed limit of 1024 bytes/s for 2 s") == true, "\(String(describing: error))")
    #expect(error?.reason.hasPrefix(URL(string: hub.cdn)?.host ?? "?") == true)
    // Not retried: one GET of the trickled body.
    #expect(try hub.requests().filter { $0.server == "cdn" }.count == 1)
  }

  @Test("a file list that declares 100 MB and trickles is abandoned")
  func trickledListing() throws {
    let hub = try HubEmulator(
      repos: ["org/model": singleFileRepo], arguments: ["--trickle", "api", "--trickle-interval", "1"])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(limits: quick))
    }
    #expect(error?.file == "org/model: file list")
    #expect(error?.reason.contains("low-speed limit") == true, "\(String(describing: error))")
  }

  @Test("an endless file list stops at the listing cap")
  func endlessListing() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo], arguments: ["--endless", "api"])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(limits: quick))
    }
    #expect(error?.kind == .limitExceeded)
    #expect(error?.description == "org/model: file list: the server's answer exceeds \(HubClient.maximumListingSize) bytes")
  }

  @Test("an endless config.json stops at the metadata cap and leaves nothing behind")
  func endlessConfig() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo], arguments: ["--endless", "config.json"])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .configOnly, options: hub.options(limits: quick))
    }
    #expect(error?.kind == .limitExceeded)
    #expect(error?.file == "org/model: config.json")
    #expect(error?.reason.contains("more than \(DownloadRequest.metadataLimit) bytes for a metadata file") == true)
    let blobs = hub.cacheDirectory + "/models--org--model/blobs"
    #expect((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? [] == [])
  }
}
