import Foundation
import Inspect

/// One remote safetensors file to read by HTTP Range: where it is, how big, and what identifies
/// its bytes.
struct RemoteFile {
  /// The file's name in the model (`model-00001-of-00002.safetensors`).
  var name: String
  /// How messages and progress name it (`org/name: model.safetensors`, `host: model.safetensors`).
  var label: String
  /// Where its bytes are fetched from (a Hub LFS file's CDN location, a URL).
  var location: URL
  /// Its size in bytes.
  var size: Int64
  /// What identifies its bytes (the Hub's ETag, a URL's ETag): pieces are cached under it, so
  /// a changed file never reuses the pieces of an earlier one.
  var etag: String
  /// The SHA-256 the source vouches for (an LFS id, a `#sha256=`), recorded on the result.
  var vouchedSHA256: String?
}

/// Reads remote safetensors files by HTTP Range into a ``RangeCache`` and builds their local
/// stand-ins: the first 8 bytes and the header, then the byte range of each tensor a
/// ``SourceNeeds`` asks for (``SourceNeeds/Bytes/tensors(_:)``), each piece once.
///
/// The one ranged reader of Hub and URL sources: the same limits (the client's
/// ``TransferLimits``), the same cache and the same handling of servers that ignore `Range`.
struct RangedFileFetcher {
  let cache: RangeCache
  /// The key of one consistent set of files in the cache: a Hub commit, or ``RangeCache/urlKey``.
  let key: String
  let http: SourceHTTPClient
  let progress: DownloadProgress
  /// The error for an answer that is not a success (the Hub's error codes, a URL's status).
  let statusError: (HTTPResponseHead, RemoteFile) -> SourceError

  /// The stand-in of `name` from cached pieces alone, or nil when something `need` asks for is
  /// missing (then ``fetch(_:need:)`` reads it).
  func cached(_ name: String, need: SourceNeeds, vouchedSHA256: (RangeCache.FileRecord) -> String?) throws
    -> SourceFile?
  {
    guard let record = cache.record(commit: key, file: name),
      let piece = record.pieces.first(where: { $0.offset == 0 }),
      cache.pieceBytes(piece, etag: record.etag) != nil
    else { return nil }
    let path = try cache.buildStandIn(record, commit: key, file: name)
    guard try missingTensorRanges(need, standIn: path, record: record).isEmpty else { return nil }
    return SourceFile(
      name: name, localPath: path, downloaded: false, sha256: vouchedSHA256(record), isPartial: true,
      ranges: record.pieces.sorted { $0.offset < $1.offset })
  }

  /// Reads `file`'s header (8 bytes, then the header) and the ranges of the tensors `need`
  /// asks for, unless cached, and builds its stand-in.
  func fetch(_ file: RemoteFile, need: SourceNeeds) throws -> SourceFile {
    var record = cache.record(commit: key, file: file.name) ?? RangeCache.FileRecord(etag: file.etag, size: file.size, pieces: [])
    if record.etag != file.etag || record.size != file.size {
      record = RangeCache.FileRecord(etag: file.etag, size: file.size, pieces: [])
    }
    var downloaded = false
    if !record.pieces.contains(where: { $0.offset == 0 && cache.pieceBytes($0, etag: file.etag) != nil }) {
      let prefix = try fetchRange(0, 8, of: file, keep: false)
      var headerLength: UInt64 = 0
      for (index, byte) in prefix.bytes.enumerated() { headerLength |= UInt64(byte) << (8 * UInt64(index)) }
      guard headerLength <= UInt64(SafetensorsReader.maximumHeaderLength), Int64(headerLength) + 8 <= file.size else {
        throw CheckpointError(
          .malformed, file: file.label, offset: 0,
          reason: "header length \(headerLength) is over the limit or runs past the file's \(file.size) bytes")
      }
      let header = try fetchRange(8, Int64(headerLength), of: file, keep: false)
      // One piece for the 8-byte length and the header.
      let piece = prefix.bytes + header.bytes
      let sha = try SHA256Hasher.hex(of: piece, for: file.label)
      let range = FetchedRange(file: file.name, offset: 0, length: Int64(piece.count), sha256: sha)
      try writeAtomically(cache.piecePath(etag: file.etag, offset: 0, length: range.length), contents: piece)
      record.pieces.removeAll { $0.offset == 0 }
      record.pieces.append(range)
      try cache.save(record, commit: key, file: file.name)
      downloaded = true
    }
    var path = try cache.buildStandIn(record, commit: key, file: file.name)
    let missing = try missingTensorRanges(need, standIn: path, record: record)
    if !missing.isEmpty {
      for (offset, length) in missing {
        record.pieces.append(try fetchRange(offset, length, of: file, keep: true).range)
      }
      try cache.save(record, commit: key, file: file.name)
      path = try cache.buildStandIn(record, commit: key, file: file.name)
      downloaded = true
    }
    return SourceFile(
      name: file.name, localPath: path, downloaded: downloaded, sha256: file.vouchedSHA256, isPartial: true,
      ranges: record.pieces.sorted { $0.offset < $1.offset })
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
        $0.offset == Int64(offset) && $0.length == Int64(length) && cache.pieceBytes($0, etag: record.etag) != nil
      }
      if !held { missing.append((Int64(offset), Int64(length))) }
    }
    return missing
  }

  /// One ranged GET of `length` bytes at `offset`: into memory (`keep: false`, small pieces the
  /// caller stores) or straight into the piece cache (`keep: true`).
  private func fetchRange(
    _ offset: Int64, _ length: Int64, of file: RemoteFile, keep: Bool
  ) throws(SourceError) -> (bytes: [UInt8], range: FetchedRange) {
    let label = "\(file.label) bytes \(offset)-\(offset + length - 1)"
    let piecePath = cache.piecePath(etag: file.etag, offset: offset, length: length)
    let temporary = piecePath + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    if keep { try createDirectory((piecePath as NSString).deletingLastPathComponent) }
    let sink = try RangeSink(offset: offset, length: length, fileSize: file.size, label: label, path: keep ? temporary : nil)
    defer {
      sink.closeFile()
      if keep { unlink(temporary) }
    }
    let host = HTTPTransport.hostName(file.location)
    progress.report(.started(label: label, totalBytes: length, resumedAt: 0))
    switch http.send(method: "GET", url: file.location, headers: ["Range": sink.rangeHeader], sink: sink, redirects: .all) {
    case .completed(let head):
      guard (200..<300).contains(head.status) else { throw statusError(head, file) }
    case .transportFailed(_, let reason):
      throw SourceError(.transfer, file: label, reason: "reading from \(host) failed: \(reason)")
    case .stalled(let reason):
      throw SourceError(.transfer, file: label, reason: reason)
    case .aborted(let error):
      throw error
    }
    guard sink.kept == length else {
      throw SourceError(.transfer, file: label, reason: "\(host) sent \(sink.kept) of the \(length) bytes asked for")
    }
    if sink.ignoredRange {
      progress.report(
        .notice(
          label: label,
          message: "\(host) ignores Range requests (it answered 200 with the whole file); "
            + "stopped reading after \(sink.received) bytes"))
    }
    let sha = sink.finish()
    if keep {
      guard rename(temporary, piecePath) == 0 else { throw DownloadSink.ioError(piecePath, "cannot store the range piece") }
    }
    progress.report(.finished(label: label, bytes: length))
    return (sink.bytes, FetchedRange(file: file.name, offset: offset, length: length, sha256: sha))
  }

  /// Places `files` in the stand-in directory of ``key`` (whole files as links, stand-ins where
  /// they were built), so it opens like any checkpoint directory; returns them at their places.
  func placeInStandInDirectory(_ files: [SourceFile]) throws(SourceError) -> (directory: String, files: [SourceFile]) {
    let directory = cache.standInDirectory(commit: key)
    try createDirectory(directory)
    var placed: [SourceFile] = []
    for file in files {
      var entry = file
      let target = directory + "/" + file.name
      if !file.isPartial && file.localPath != target {
        try createDirectory((target as NSString).deletingLastPathComponent)
        unlink(target)
        guard symlink(file.localPath, target) == 0 else { throw DownloadSink.ioError(target, "cannot link into the stand-in directory") }
      }
      entry.localPath = target
      placed.append(entry)
    }
    return (directory, placed)
  }
}
