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
  func resolveRanged(_ need: SourceNeeds) throws(CheckpointError) -> ResolvedSource {
    if let cached = try fromCache(need.whole) { return cached }
    if let cached = try fromRangeCache(need) { return cached }
    if options.offline {
      throw CheckpointError(.notFound, file: given, reason: try offlineReason(need.whole))
    }
    return try downloadRanged(need)
  }

  var rangeCache: RangeCache { RangeCache(root: options.rangeCacheDirectory + "/" + repository.cacheFolderName) }

  /// The stand-in directory from cached pieces alone, or nil when something is missing.
  private func fromRangeCache(_ need: SourceNeeds) throws(CheckpointError) -> ResolvedSource? {
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
    for name in weights {
      guard let record = rangeCache.record(commit: commit, file: name),
        let piece = record.pieces.first(where: { $0.offset == 0 }),
        rangeCache.pieceBytes(piece, etag: record.etag) != nil
      else { return nil }
      let path = try rangeCache.buildStandIn(record, commit: commit, file: name)
      guard try missingTensorRanges(need, standIn: path, record: record).isEmpty else { return nil }
      files.append(
        SourceFile(name: name, localPath: path, downloaded: false, sha256: record.etag, isPartial: true, ranges: record.pieces))
    }
    return try standInResult(commit: commit, files: files)
  }

  private func downloadRanged(_ need: SourceNeeds) throws(CheckpointError) -> ResolvedSource {
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
        throw CheckpointError(.io, file: indexFile.localPath, reason: "cannot read the downloaded index")
      }
      weights = try WeightSelection.shards(inIndex: [UInt8](bytes), for: need.weights, label: "\(repository.id): \(index)")
      for shard in weights where !listing.files.contains(shard) {
        throw CheckpointError(
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

  /// Reads `name`'s header (8 bytes, then the header) and the needed tensors' ranges, unless
  /// cached, and builds its stand-in.
  private func fetchRanges(
    _ name: String, need: SourceNeeds, commit: String, client: HubClient
  ) throws(CheckpointError) -> SourceFile {
    guard let metadata = try client.metadata(repository, revision: commit, file: name) else {
      throw CheckpointError(
        .notFound, file: "\(repository.id): \(name)", reason: "listed by the Hub but not downloadable at \(commit)")
    }
    guard let size = metadata.size else {
      throw CheckpointError(.malformed, file: "\(repository.id): \(name)", reason: "the Hub announced no size for the file")
    }
    let label = "\(repository.id): \(name)"
    var record = rangeCache.record(commit: commit, file: name)
    if record?.etag != metadata.etag || record?.size != size {
      record = RangeCache.FileRecord(etag: metadata.etag, size: size, pieces: [])
    }
    guard var record else { return SourceFile(name: name, localPath: "", downloaded: false) }
    var downloaded = false
    if !record.pieces.contains(where: { $0.offset == 0 && rangeCache.pieceBytes($0, etag: metadata.etag) != nil }) {
      let prefix = try fetchRange(0, 8, of: name, size: size, metadata: metadata, client: client, keep: false)
      var headerLength: UInt64 = 0
      for (index, byte) in prefix.bytes.enumerated() { headerLength |= UInt64(byte) << (8 * UInt64(index)) }
      guard headerLength <= UInt64(SafetensorsReader.maximumHeaderLength), Int64(headerLength) + 8 <= size else {
        throw CheckpointError(
          .malformed, file: label, offset: 0,
          reason: "header length \(headerLength) is over the limit or runs past the file's \(size) bytes")
      }
      let header = try fetchRange(8, Int64(headerLength), of: name, size: size, metadata: metadata, client: client, keep: false)
      // One piece for the 8-byte length and the header.
      let piece = prefix.bytes + header.bytes
      let sha = piece.withUnsafeBytes { SHA256Hasher.hex(of: $0) }
      let range = FetchedRange(file: name, offset: 0, length: Int64(piece.count), sha256: sha)
      try writeAtomically(rangeCache.piecePath(etag: metadata.etag, offset: 0, length: range.length), contents: piece)
      record.pieces.removeAll { $0.offset == 0 }
      record.pieces.append(range)
      try rangeCache.save(record, commit: commit, file: name)
      downloaded = true
    }
    var path = try rangeCache.buildStandIn(record, commit: commit, file: name)
    let missing = try missingTensorRanges(need, standIn: path, record: record)
    if !missing.isEmpty {
      for (offset, length) in missing {
        let fetched = try fetchRange(offset, length, of: name, size: size, metadata: metadata, client: client, keep: true)
        record.pieces.append(fetched.range)
      }
      try rangeCache.save(record, commit: commit, file: name)
      path = try rangeCache.buildStandIn(record, commit: commit, file: name)
      downloaded = true
    }
    return SourceFile(
      name: name, localPath: path, downloaded: downloaded, sha256: metadata.isLFS ? metadata.etag : nil,
      isPartial: true, ranges: record.pieces.sorted { $0.offset < $1.offset })
  }

  /// The byte ranges of the tensors `need` asks for that the record does not hold yet.
  private func missingTensorRanges(
    _ need: SourceNeeds, standIn: String, record: RangeCache.FileRecord
  ) throws(CheckpointError) -> [(Int64, Int64)] {
    guard case .tensors(let names) = need.bytes else { return [] }
    let header = try SafetensorsReader.readHeader(from: try MappedFile(path: standIn))
    var missing: [(Int64, Int64)] = []
    for tensor in header.tensors where names.contains(tensor.name) {
      guard case .contiguous(let offset, let length) = tensor.layout else { continue }
      let held = record.pieces.contains {
        $0.offset == Int64(offset) && $0.length == Int64(length) && rangeCache.pieceBytes($0, etag: record.etag) != nil
      }
      if !held { missing.append((Int64(offset), Int64(length))) }
    }
    return missing
  }

  /// One ranged GET of `length` bytes at `offset`: into memory (`keep: false`, small pieces the
  /// caller stores) or straight into the piece cache (`keep: true`).
  private func fetchRange(
    _ offset: Int64, _ length: Int64, of name: String, size: Int64, metadata: HubFileMetadata, client: HubClient,
    keep: Bool
  ) throws(CheckpointError) -> (bytes: [UInt8], range: FetchedRange) {
    let label = "\(repository.id): \(name) bytes \(offset)-\(offset + length - 1)"
    let piecePath = rangeCache.piecePath(etag: metadata.etag, offset: offset, length: length)
    let temporary = piecePath + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    if keep { try createDirectory((piecePath as NSString).deletingLastPathComponent) }
    let sink = try RangeSink(offset: offset, length: length, fileSize: size, label: label, path: keep ? temporary : nil)
    defer {
      sink.closeFile()
      if keep { unlink(temporary) }
    }
    let host = HTTPTransport.hostName(metadata.location)
    options.progress.report(.started(label: label, totalBytes: length, resumedAt: 0))
    switch client.http.send(
      method: "GET", url: metadata.location, headers: ["Range": sink.rangeHeader], sink: sink, redirects: .all)
    {
    case .completed(let head):
      guard (200..<300).contains(head.status) else {
        throw client.statusError(head, repository: repository, revision: metadata.commit, file: name)
      }
    case .transportFailed(_, let reason):
      throw CheckpointError(.io, file: label, reason: "reading from \(host) failed: \(reason)")
    case .stalled(let reason):
      throw CheckpointError(.io, file: label, reason: reason)
    case .aborted(let error):
      throw error
    }
    guard sink.kept == length else {
      throw CheckpointError(
        .io, file: label, reason: "\(host) sent \(sink.kept) of the \(length) bytes asked for")
    }
    if sink.ignoredRange {
      options.progress.report(
        .notice(
          label: label,
          message: "\(host) ignores Range requests (it answered 200 with the whole file); "
            + "stopped reading after \(sink.received) bytes"))
    }
    let sha = sink.finish()
    if keep {
      guard rename(temporary, piecePath) == 0 else { throw DownloadSink.ioError(piecePath, "cannot store the range piece") }
    }
    options.progress.report(.finished(label: label, bytes: length))
    return (sink.bytes, FetchedRange(file: name, offset: offset, length: length, sha256: sha))
  }

  private func standInResult(commit: String, files: [SourceFile]) throws(CheckpointError) -> ResolvedSource {
    // The stand-in directory holds config.json and the index too (links into the HF snapshot),
    // so it opens like any checkpoint directory.
    let directory = rangeCache.standInDirectory(commit: commit)
    try createDirectory(directory)
    var placed: [SourceFile] = []
    for file in files {
      var entry = file
      let target = directory + "/" + file.name
      if !file.isPartial && file.localPath != target {
        unlink(target)
        guard symlink(file.localPath, target) == 0 else { throw DownloadSink.ioError(target, "cannot link into the stand-in directory") }
      }
      entry.localPath = target
      placed.append(entry)
    }
    return ResolvedSource(
      given: given, origin: .hub, path: directory, hubID: repository.id, requestedRevision: requestedRevision,
      revision: commit, files: placed)
  }
}
