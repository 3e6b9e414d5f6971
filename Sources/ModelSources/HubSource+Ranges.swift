import Foundation
import Inspect

/// Header-only and single-tensor reads of a Hub model (``SourceNeeds/Bytes/headers`` and
/// ``SourceNeeds/Bytes/tensors(_:)``): config.json and the index are whole files in the Hugging
/// Face cache; each selected safetensors file is read by HTTP Range — its first 8 bytes, then
/// its header, then the byte range of each needed tensor — into the ``RangeCache``, and
/// resolved to a local stand-in directory whose safetensors files have their real size and
/// header and only the fetched ranges of data.
extension HubSource {
  /// The ranged resolution: the range cache first (no request when it holds every piece), then
  /// the Hub.
  func resolveRanged(_ need: SourceNeeds) throws -> ResolvedSource {
    if let cached = try fromCache(need.whole) { return cached }
    if let cached = try fromRangeCache(need) { return cached }
    if options.offline {
      throw SourceError(.notFound, file: given, reason: try offlineReason(need.whole))
    }
    return try downloadRanged(need)
  }

  var rangeCache: RangeCache { RangeCache(root: options.rangeCacheDirectory + "/" + repository.cacheFolderName) }

  /// The stand-in directory from cached pieces alone, or nil when something is missing.
  private func fromRangeCache(_ need: SourceNeeds) throws -> ResolvedSource? {
    guard let commit = rangeCache.commit(for: requestedRevision) else { return nil }
    let snapshot = cache.snapshotDirectory(repository, commit: commit)
    var files: [SourceFile] = []
    if need.config {
      if FileManager.default.fileExists(atPath: snapshot + "/config.json") {
        files.append(SourceFile(name: "config.json", localPath: snapshot + "/config.json", downloaded: false))
      } else if !cache.isMarkedMissing(repository, commit: commit, file: "config.json") {
        return nil
      }
    }
    let selection = rangeCache.standInDirectory(commit: commit) + "/.weights"
    guard let text = try? String(contentsOfFile: selection, encoding: .utf8) else { return nil }
    let names = text.split(separator: "\n").map(String.init)
    guard let first = names.first else { return nil }
    var weights: [String] = []
    if first.hasSuffix(".index.json") {
      guard let bytes = FileManager.default.contents(atPath: snapshot + "/" + first) else { return nil }
      files.append(SourceFile(name: first, localPath: snapshot + "/" + first, downloaded: false))
      weights = try WeightSelection.shards(inIndex: [UInt8](bytes), for: need.weights, label: "\(repository.id): \(first)")
    } else {
      weights = [first]
    }
    let fetcher = rangedFetcher(commit: commit, client: nil)
    for name in weights {
      guard let file = try fetcher.cached(name, need: need, vouchedSHA256: { HubClient.isSHA256($0.etag) ? $0.etag : nil })
      else { return nil }
      files.append(file)
    }
    return try standInResult(commit: commit, files: files)
  }

  private func downloadRanged(_ need: SourceNeeds) throws -> ResolvedSource {
    let client = HubClient(options: options, http: SourceHTTPClient(options: options))
    let listing = try client.listFiles(repository, revision: requestedRevision)
    let commit = listing.commit
    var files: [SourceFile] = []
    if need.config {
      if listing.files.contains("config.json") {
        files.append(try fetch("config.json", commit: commit, client: client))
      } else {
        cache.markMissing(repository, commit: commit, file: "config.json")
      }
    }
    var weights: [String] = []
    let selected: String
    switch try WeightSelection.layout(in: listing.files, label: "\(given) (revision '\(requestedRevision)')") {
    case .file(let name):
      selected = name
      weights = [name]
    case .index(let index):
      selected = index
      let indexFile = try fetch(index, commit: commit, client: client)
      files.append(indexFile)
      guard let bytes = FileManager.default.contents(atPath: indexFile.localPath) else {
        throw SourceError(.cache, file: indexFile.localPath, reason: "cannot read the downloaded index")
      }
      weights = try WeightSelection.shards(inIndex: [UInt8](bytes), for: need.weights, label: "\(repository.id): \(index)")
      for shard in weights where !listing.files.contains(shard) {
        throw SourceError(
          .notFound, file: "\(repository.id): \(index)", reason: "names shard '\(shard)', which the repository lacks")
      }
    }
    for name in weights {
      guard name.hasSuffix(".safetensors") else {
        // Pickle checkpoints keep their directory at the end of a zip: read them whole.
        files.append(try fetch(name, commit: commit, client: client))
        continue
      }
      files.append(try fetchRanges(name, need: need, commit: commit, client: client))
    }
    try writeAtomically(rangeCache.standInDirectory(commit: commit) + "/.weights", contents: Array((selected + "\n").utf8))
    try cache.writeReference(repository, revision: requestedRevision, commit: commit)
    try rangeCache.writeReference(revision: requestedRevision, commit: commit)
    return try standInResult(commit: commit, files: files)
  }

  /// The ranged reader for files of `commit`; `client` answers with the Hub's error codes.
  private func rangedFetcher(commit: String, client: HubClient?) -> RangedFileFetcher {
    let http = client?.http ?? SourceHTTPClient(options: options)
    let hub = client ?? HubClient(options: options, http: http)
    return RangedFileFetcher(
      cache: rangeCache, key: commit, http: http, progress: options.progress,
      statusError: { head, file in hub.statusError(head, repository: repository, revision: commit, file: file.name) })
  }

  /// Reads `name`'s header and the needed tensors' ranges, unless cached, and builds its stand-in.
  private func fetchRanges(
    _ name: String, need: SourceNeeds, commit: String, client: HubClient
  ) throws -> SourceFile {
    guard let metadata = try client.metadata(repository, revision: commit, file: name) else {
      throw SourceError(
        .notFound, file: "\(repository.id): \(name)", reason: "listed by the Hub but not downloadable at \(commit)")
    }
    guard let size = metadata.size else {
      throw SourceError(.unexpectedAnswer, file: "\(repository.id): \(name)", reason: "the Hub announced no size for the file")
    }
    let file = RemoteFile(
      name: name, label: "\(repository.id): \(name)", location: metadata.location, size: size, etag: metadata.etag,
      vouchedSHA256: metadata.isLFS ? metadata.etag : nil)
    return try rangedFetcher(commit: commit, client: client).fetch(file, need: need)
  }

  private func standInResult(commit: String, files: [SourceFile]) throws -> ResolvedSource {
    let (directory, placed) = try rangedFetcher(commit: commit, client: nil).placeInStandInDirectory(files)
    return ResolvedSource(
      given: given, origin: .hub, path: directory, hubID: repository.id, requestedRevision: requestedRevision,
      revision: commit, files: placed)
  }
}
