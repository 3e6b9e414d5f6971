import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

@Suite("Hub downloads into the Hugging Face cache")
struct HubDownloadTests {
  @Test("a fresh download fills refs, blobs and snapshots like huggingface_hub")
  func freshDownload() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo])
    let source = try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options())

    #expect(source.origin == .hub)
    #expect(source.hubID == "org/model")
    #expect(source.requestedRevision == "main")
    let commit = try #require(source.revision)
    #expect(HubRepository.isCommitHash(commit))
    #expect(Set(source.downloadedFiles) == ["config.json", "model.safetensors"])
    let repoDir = hub.cacheDirectory + "/models--org--model"
    #expect(source.path == repoDir + "/snapshots/" + commit)
    #expect(contents(repoDir + "/refs/main") == Array(commit.utf8))

    let weights = try #require(singleFileRepo["model.safetensors"])
    let digest = try sha256Hex(weights)
    let link = try FileManager.default.destinationOfSymbolicLink(atPath: source.path + "/model.safetensors")
    #expect(link == "../../blobs/" + digest)
    #expect(contents(repoDir + "/blobs/" + digest) == weights)
    #expect(contents(source.path + "/config.json") == singleFileRepo["config.json"])
    #expect(source.files.first { $0.name == "model.safetensors" }?.sha256 == digest)
    // Nothing that is not part of the model was fetched.
    #expect(!FileManager.default.fileExists(atPath: source.path + "/README.md"))
    let blobs = try FileManager.default.contentsOfDirectory(atPath: repoDir + "/blobs")
    #expect(blobs.count == 2)
    #expect(!blobs.contains { $0.hasSuffix(".incomplete") })
  }

  @Test("a cache hit makes no request at all")
  func cacheHitMakesNoRequest() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo])
    let first = try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options())
    #expect(try !hub.requests().isEmpty)
    hub.clearLog()

    let second = try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options())
    #expect(try hub.requests().isEmpty)
    #expect(second.downloadedFiles.isEmpty)
    #expect(second.path == first.path)
    #expect(second.revision == first.revision)
    // Pinning the commit resolves from the snapshot folder, also without a request.
    let pinned = try SourceResolver.resolve(
      "org/model@" + (first.revision ?? ""), need: .configOnly, options: hub.options())
    #expect(pinned.path == first.path)
    #expect(try hub.requests().isEmpty)
  }

  @Test("a verifier's compatibility check fetches config.json only, with one HEAD and one GET")
  func configOnly() throws {
    let hub = try HubEmulator(repos: ["org/verifier": shardedRepo])
    let source = try SourceResolver.resolve("org/verifier", need: .configOnly, options: hub.options())
    #expect(source.files.map(\.name) == ["config.json"])
    let requests = try hub.requests()
    #expect(requests.map(\.method) == ["HEAD", "GET"])
    #expect(requests.allSatisfy { $0.path.hasSuffix("/resolve/main/config.json") })
    let snapshot = try FileManager.default.contentsOfDirectory(atPath: source.path)
    #expect(snapshot == ["config.json"])
  }

  @Test("eagle3 embeddings fetch the index and only the shard holding embed_tokens")
  func embeddingsShardOnly() throws {
    let hub = try HubEmulator(repos: ["org/verifier": shardedRepo])
    let source = try SourceResolver.resolve("org/verifier", need: .embeddings.whole, options: hub.options())
    #expect(
      Set(source.files.map(\.name))
        == ["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors"])
    #expect(source.weightPaths == [source.path + "/model-00001-of-00002.safetensors"])
    #expect(contents(source.weightPaths[0]) == shardedRepo["model-00001-of-00002.safetensors"])
    #expect(try !hub.requests().contains { $0.path.contains("name=model-00002") })

    // Asking for the whole checkpoint later downloads just the missing shard.
    hub.clearLog()
    let whole = try SourceResolver.resolve("org/verifier", need: .checkpoint, options: hub.options())
    #expect(whole.downloadedFiles == ["model-00002-of-00002.safetensors"])
    #expect(try hub.requests().filter { $0.server == "cdn" }.count == 1)
  }

  @Test("a cut connection is resumed with a Range request in the same run")
  func resumeAfterCut() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo], arguments: ["--cut", "model.safetensors"])
    let events = EventLog()
    var options = hub.options()
    options.progress = DownloadProgress { events.append($0) }
    let source = try SourceResolver.resolve("org/model", need: .checkpoint, options: options)

    let weights = try #require(singleFileRepo["model.safetensors"])
    #expect(contents(source.path + "/model.safetensors") == weights)
    let cdnGets = try hub.requests().filter { $0.server == "cdn" && $0.method == "GET" }
    #expect(cdnGets.count == 2)
    #expect(cdnGets.first?.headers["range"] == nil)
    #expect(cdnGets.last?.headers["range"] == "bytes=\(weights.count / 2)-")
    #expect(events.all.contains { if case .retrying = $0 { return true } else { return false } })
    #expect(events.all.contains(.finished(label: "org/model: model.safetensors", bytes: Int64(weights.count))))
  }

  @Test("a truncated download fails clearly, keeps only the partial blob, and the next run resumes it")
  func truncatedThenResumedNextRun() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo], arguments: ["--cut", "model.safetensors"])
    let weights = try #require(singleFileRepo["model.safetensors"])
    let digest = try sha256Hex(weights)
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(maxAttempts: 1))
    }
    #expect(error?.description.hasPrefix("org/model: model.safetensors: truncated download: received 150000 of 300000 bytes") == true)
    let repoDir = hub.cacheDirectory + "/models--org--model"
    let blobs = try FileManager.default.contentsOfDirectory(atPath: repoDir + "/blobs")
    #expect(blobs.contains(digest + ".incomplete"))
    #expect(!blobs.contains(digest))
    #expect(try !snapshotNames(repoDir).contains("model.safetensors"))

    hub.clearLog()
    let source = try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(maxAttempts: 1))
    #expect(contents(source.path + "/model.safetensors") == weights)
    let ranges = try hub.requests().compactMap { $0.headers["range"] }
    #expect(ranges == ["bytes=150000-"])
    #expect(try !FileManager.default.contentsOfDirectory(atPath: repoDir + "/blobs").contains { $0.hasSuffix(".incomplete") })
  }

  @Test("a checksum mismatch is refused and leaves nothing of that file in blobs/ or snapshots/")
  func checksumMismatch() throws {
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo], arguments: ["--corrupt", "model.safetensors"])
    let digest = try sha256Hex(#require(singleFileRepo["model.safetensors"]))
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options())
    }
    #expect(error?.file == "org/model: model.safetensors")
    #expect(error?.reason.hasPrefix("checksum mismatch: the source says sha256 \(digest), the downloaded bytes hash to ") == true)
    #expect(error?.reason.hasSuffix("; nothing was kept") == true)
    let repoDir = hub.cacheDirectory + "/models--org--model"
    let blobs = try FileManager.default.contentsOfDirectory(atPath: repoDir + "/blobs")
    #expect(!blobs.contains { $0.hasPrefix(digest) })
    #expect(try !snapshotNames(repoDir).contains("model.safetensors"))
    #expect(!FileManager.default.fileExists(atPath: repoDir + "/refs/main"))
  }

  @Test("a repository without config.json: config-only is an error, a checkpoint is cached with a .no_exist marker")
  func noConfig() throws {
    let weightsOnly = ["model.safetensors": fakeWeights(1000, seed: 9)]
    let hub = try HubEmulator(repos: ["org/bare": weightsOnly])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/bare", need: .configOnly, options: hub.options())
    }
    #expect(error?.description == "org/bare: no local path 'org/bare'; org/bare: config.json: the repository has no config.json at revision 'main'")

    let source = try SourceResolver.resolve("org/bare", need: .checkpoint, options: hub.options())
    #expect(source.files.map(\.name) == ["model.safetensors"])
    let commit = try #require(source.revision)
    let marker = hub.cacheDirectory + "/models--org--bare/.no_exist/\(commit)/config.json"
    #expect(FileManager.default.fileExists(atPath: marker))
    hub.clearLog()
    _ = try SourceResolver.resolve("org/bare", need: .checkpoint, options: hub.options())
    #expect(try hub.requests().isEmpty)
  }

  @Test("several un-indexed weights files are refused as the reader refuses them, before any download")
  func severalWeightsFiles() throws {
    let repo = [
      "config.json": Array("{}".utf8), "a.safetensors": fakeWeights(500, seed: 4),
      "b.safetensors": fakeWeights(500, seed: 5), "optimizer.bin": fakeWeights(100, seed: 6),
    ]
    let hub = try HubEmulator(repos: ["org/two": repo])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("org/two", need: .checkpoint, options: hub.options())
    }
    #expect(error?.kind == .unsupportedLayout)
    #expect(error?.reason == WeightFiles.Refusal.severalFiles(["a.safetensors", "b.safetensors"]).reason)
    #expect(error?.file == "org/two (revision 'main')")
    #expect(try !hub.requests().contains { $0.path.contains(".safetensors") })
  }

  /// Every file name under the repository's snapshots.
  private func snapshotNames(_ repoDir: String) throws -> Set<String> {
    let snapshots = repoDir + "/snapshots"
    guard FileManager.default.fileExists(atPath: snapshots) else { return [] }
    var names: Set<String> = []
    for commit in try FileManager.default.contentsOfDirectory(atPath: snapshots) {
      for name in try FileManager.default.contentsOfDirectory(atPath: snapshots + "/" + commit) {
        names.insert(name)
      }
    }
    return names
  }
}

/// Collects progress events from the downloading thread.
final class EventLog: @unchecked Sendable {
  private let lock = NSLock()
  private var events: [DownloadEvent] = []

  func append(_ event: DownloadEvent) {
    lock.lock()
    events.append(event)
    lock.unlock()
  }

  var all: [DownloadEvent] {
    lock.lock()
    defer { lock.unlock() }
    return events
  }
}
