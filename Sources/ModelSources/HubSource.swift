import Foundation
import Inspect

/// Resolves `org/name[@revision]`: the cache first (no request when it already holds what the
/// command needs), then the Hub, downloading into the same cache layout `huggingface_hub` uses.
struct HubSource {
  let repository: HubRepository
  let requestedRevision: String
  let given: String
  let options: HubOptions
  let cache: HubCache

  init(repository: HubRepository, revision: String?, given: String, options: HubOptions) {
    self.repository = repository
    self.requestedRevision = revision ?? "main"
    self.given = given
    self.options = options
    self.cache = HubCache(root: options.cacheDirectory)
  }

  func resolve(_ need: SourceNeeds) throws -> ResolvedSource {
    if need.bytes != .whole && need.weights != .none { return try resolveRanged(need) }
    if let cached = try fromCache(need) { return cached }
    if options.offline {
      throw SourceError(.notFound, file: given, reason: try offlineReason(need))
    }
    return try download(need)
  }

  // MARK: - Cache

  private func check(_ need: SourceNeeds, commit: String) throws -> WeightSelection.CacheCheck {
    let directory = cache.snapshotDirectory(repository, commit: commit)
    return try WeightSelection.check(
      need, present: cache.snapshotFiles(repository, commit: commit),
      isKnownAbsent: { cache.isMarkedMissing(repository, commit: commit, file: $0) },
      readFile: { name in FileManager.default.contents(atPath: directory + "/" + name).map { [UInt8]($0) } },
      label: repository.id)
  }

  func fromCache(_ need: SourceNeeds) throws -> ResolvedSource? {
    guard let commit = cache.commit(for: repository, revision: requestedRevision),
      case .complete(let names) = try check(need, commit: commit)
    else { return nil }
    let files = names.map {
      SourceFile(name: $0, localPath: cache.snapshotPath(repository, commit: commit, file: $0), downloaded: false)
    }
    return result(commit: commit, files: files)
  }

  func offlineReason(_ need: SourceNeeds) throws -> String {
    let mode = "offline (--offline or HF_HUB_OFFLINE=1)"
    guard let commit = cache.commit(for: repository, revision: requestedRevision) else {
      return "\(mode) and the Hugging Face cache at \(options.cacheDirectory) has no snapshot of "
        + "revision '\(requestedRevision)'; run once online or download it with `hf download \(repository.id)`"
    }
    var lacking = "some files"
    if case .missing(let what) = try check(need, commit: commit) { lacking = what }
    return "\(mode) and the cached snapshot \(commit) lacks \(lacking); run once online to fetch it"
  }

  // MARK: - Hub

  private func download(_ need: SourceNeeds) throws -> ResolvedSource {
    let client = HubClient(options: options, http: SourceHTTPClient(options: options))
    var fetched: [SourceFile] = []
    let commit: String
    if need.weights == .none {
      // Config only: one HEAD tells the commit; no file list needed.
      guard need.config else { throw UsageError(given, reason: "nothing to fetch") }
      guard let metadata = try client.metadata(repository, revision: requestedRevision, file: "config.json") else {
        throw SourceError(
          .notFound, file: "\(repository.id): config.json",
          reason: "the repository has no config.json at revision '\(requestedRevision)'")
      }
      commit = metadata.commit
      fetched.append(try fetch("config.json", metadata: metadata, client: client))
    } else {
      let listing = try client.listFiles(repository, revision: requestedRevision)
      commit = listing.commit
      if need.config {
        if listing.files.contains("config.json") {
          fetched.append(try fetch("config.json", commit: commit, client: client))
        } else {
          cache.markMissing(repository, commit: commit, file: "config.json")
        }
      }
      switch try WeightSelection.layout(in: listing.files, label: "\(given) (revision '\(requestedRevision)')") {
      case .file(let name):
        fetched.append(try fetch(name, commit: commit, client: client))
      case .index(let index):
        let indexFile = try fetch(index, commit: commit, client: client)
        fetched.append(indexFile)
        guard let bytes = FileManager.default.contents(atPath: indexFile.localPath) else {
          throw SourceError(.cache, file: indexFile.localPath, reason: "cannot read the downloaded index")
        }
        let shards = try WeightSelection.shards(
          inIndex: [UInt8](bytes), for: need.weights, label: "\(repository.id): \(index)")
        for shard in shards {
          guard listing.files.contains(shard) else {
            throw SourceError(
              .notFound, file: "\(repository.id): \(index)", reason: "names shard '\(shard)', which the repository lacks")
          }
          fetched.append(try fetch(shard, commit: commit, client: client))
        }
      }
    }
    try cache.writeReference(repository, revision: requestedRevision, commit: commit)
    return result(commit: commit, files: fetched)
  }

  /// Fetches `name` at the pinned `commit`.
  func fetch(_ name: String, commit: String, client: HubClient) throws(SourceError) -> SourceFile {
    guard let metadata = try client.metadata(repository, revision: commit, file: name) else {
      throw SourceError(
        .notFound, file: "\(repository.id): \(name)", reason: "listed by the Hub but not downloadable at \(commit)")
    }
    return try fetch(name, metadata: metadata, client: client)
  }

  /// Links `name` into the snapshot, downloading its blob unless the cache already has it.
  private func fetch(_ name: String, metadata: HubFileMetadata, client: HubClient) throws(SourceError) -> SourceFile {
    let blob = cache.blobPath(repository, etag: metadata.etag)
    var downloaded = false
    if !FileManager.default.fileExists(atPath: blob) {
      try createDirectory((blob as NSString).deletingLastPathComponent)
      downloaded = try cache.withBlobLock(repository, etag: metadata.etag) { () throws(SourceError) -> Bool in
        // Another process may have finished it while we waited for the lock.
        if FileManager.default.fileExists(atPath: blob) { return false }
        let downloader = FileDownloader(http: client.http) { head in
          client.statusError(head, repository: repository, revision: metadata.commit, file: name)
        }
        let request = DownloadRequest(
          url: metadata.location, label: "\(repository.id): \(name)", expectedSize: metadata.size,
          expectedSHA256: metadata.isLFS ? metadata.etag : nil,
          maximumSize: DownloadRequest.isMetadata(name) ? DownloadRequest.metadataLimit : nil)
        _ = try downloader.download(
          request, incompletePath: cache.incompletePath(repository, etag: metadata.etag), finalPath: blob)
        return true
      }
    }
    try cache.link(repository, commit: metadata.commit, file: name, etag: metadata.etag)
    return SourceFile(
      name: name, localPath: cache.snapshotPath(repository, commit: metadata.commit, file: name),
      downloaded: downloaded, sha256: metadata.isLFS ? metadata.etag : nil)
  }

  private func result(commit: String, files: [SourceFile]) -> ResolvedSource {
    ResolvedSource(
      given: given, origin: .hub, path: cache.snapshotDirectory(repository, commit: commit),
      hubID: repository.id, requestedRevision: requestedRevision, revision: commit, files: files)
  }
}
