import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

@Suite("Hub access: offline mode, tokens, and the Hub's errors")
struct HubAccessTests {
  @Test("offline with nothing cached is a clear error and makes no request")
  func offlineWithNothingCached() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(offline: true))
    }
    #expect(error?.kind == .notFound)
    #expect(
      error?.description
        == "org/model: no local path 'org/model'; org/model: offline (--offline or HF_HUB_OFFLINE=1) and the Hugging Face cache at "
        + "\(hub.cacheDirectory) has no snapshot of revision 'main'; run once online or download it "
        + "with `hf download org/model`")
    #expect(try hub.requests().isEmpty)
  }

  @Test("offline with the cache filled works; offline asking for more than is cached names what lacks")
  func offlineWithCache() throws {
    let hub = try HubEmulator(repos: ["org/verifier": shardedRepo])
    _ = try SourceResolver.resolve("org/verifier", need: .embeddings.whole, options: hub.options())
    hub.clearLog()

    let cached = try SourceResolver.resolve("org/verifier", need: .embeddings.whole, options: hub.options(offline: true))
    #expect(cached.downloadedFiles.isEmpty)
    #expect(cached.weightPaths.count == 1)
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/verifier", need: .checkpoint, options: hub.options(offline: true))
    }
    #expect(error?.reason.hasSuffix("lacks model-00002-of-00002.safetensors; run once online to fetch it") == true)
    #expect(try hub.requests().isEmpty)
  }

  @Test("the token goes to the endpoint and never to the CDN host it redirects to")
  func tokenOnlyToEndpoint() throws {
    let hub = try HubEmulator(
      repos: ["org/gated": singleFileRepo], arguments: ["--gated", "org/gated", "--token", "hf_secret"])
    let source = try SourceResolver.resolve("org/gated", need: .checkpoint, options: hub.options(token: "hf_secret"))
    #expect(contents(source.path + "/model.safetensors") == singleFileRepo["model.safetensors"])

    let requests = try hub.requests()
    let toHub = requests.filter { $0.server == "hub" }
    let toCDN = requests.filter { $0.server == "cdn" }
    #expect(!toHub.isEmpty && !toCDN.isEmpty)
    #expect(toHub.allSatisfy { $0.headers["authorization"] == "Bearer hf_secret" })
    #expect(toCDN.allSatisfy { $0.headers["authorization"] == nil })
  }

  @Test("a gated repository without a token is refused with a hint (HTTP 401)")
  func gatedWithoutToken() throws {
    let hub = try HubEmulator(
      repos: ["org/gated": singleFileRepo], arguments: ["--gated", "org/gated", "--token", "hf_secret"])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/gated", need: .configOnly, options: hub.options())
    }
    #expect(
      error?.description
        == "org/gated: config.json: access denied (HTTP 401): the repository is gated or private and no "
        + "token was sent; request access at \(hub.endpoint)/org/gated, then set HF_TOKEN or save a token "
        + "in $HF_HOME/token (`hf auth login`)")
    #expect(!FileManager.default.fileExists(atPath: hub.cacheDirectory + "/models--org--gated/snapshots"))
  }

  @Test("a token without access is refused (HTTP 403)")
  func gatedWithWrongToken() throws {
    let hub = try HubEmulator(
      repos: ["org/gated": singleFileRepo], arguments: ["--gated", "org/gated", "--token", "hf_secret"])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/gated", need: .checkpoint, options: hub.options(token: "hf_other"))
    }
    #expect(
      error?.description
        == "org/gated: access denied (HTTP 403): the token has no access to this gated or private "
        + "repository; request access at \(hub.endpoint)/org/gated")
  }

  @Test("an unknown repository and an unknown revision are named as such (HTTP 404)")
  func notFound() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo])
    let repoError = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/missing", need: .checkpoint, options: hub.options())
    }
    #expect(repoError?.description == "org/missing: no local path 'org/missing'; org/missing: repository not found on \(hub.endpoint) (HTTP 404)")
    #expect(repoError?.kind == .notFound)
    let configError = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/missing", need: .configOnly, options: hub.options())
    }
    #expect(configError?.description == "org/missing: no local path 'org/missing'; org/missing: config.json: repository not found on \(hub.endpoint) (HTTP 404)")
    let revisionError = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model@v9", need: .checkpoint, options: hub.options())
    }
    #expect(revisionError?.description == "org/model@v9: no local path 'org/model@v9'; org/model: revision 'v9' not found on \(hub.endpoint) (HTTP 404)")
    #expect(!FileManager.default.fileExists(atPath: hub.cacheDirectory + "/models--org--missing/snapshots"))
  }

  @Test("an unreachable endpoint says so and points at offline mode")
  func unreachable() throws {
    let options = HubOptions(
      endpoint: "http://127.0.0.1:9", cacheDirectory: NSTemporaryDirectory() + "hub-unreachable-\(UUID())",
      urlCacheDirectory: NSTemporaryDirectory() + "urls-unreachable-\(UUID())", maxAttempts: 1, timeout: 5)
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .configOnly, options: options)
    }
    #expect(error?.description.hasPrefix("org/model: no local path 'org/model'; org/model: config.json: cannot reach http://127.0.0.1:9: ") == true)
    #expect(error?.description.hasSuffix("(use --offline or HF_HUB_OFFLINE=1 to read only the cache)") == true)
    let listingError = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: options)
    }
    #expect(listingError?.description.hasPrefix("org/model: no local path 'org/model'; org/model: file list: cannot reach http://127.0.0.1:9: ") == true)
  }
}
