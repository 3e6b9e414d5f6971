import Foundation
import Inspect
import Platform

/// One file to fetch.
struct DownloadRequest {
  /// Where the bytes are (redirects are followed; the token goes only to the endpoint).
  var url: URL
  /// How progress and errors name the file, e.g. `org/name: model.safetensors`.
  var label: String
  /// The size the source announced, if any; a different size is an error.
  var expectedSize: Int64?
  /// The SHA-256 the file must have (LFS files: the Hub's `X-Linked-Etag`).
  var expectedSHA256: String?
  /// The most bytes accepted: metadata files (config, index) are capped so a server that sends
  /// an endless body cannot fill the disk; nil for weights, whose size the source announces.
  var maximumSize: Int64? = nil

  /// The cap on metadata files: the reader's own limit for config.json and shard indexes.
  static let metadataLimit = Int64(CheckpointReader.maximumConfigSize)

  /// Whether `name` is a metadata file (not weights), which ``maximumSize`` caps.
  static func isMetadata(_ name: String) -> Bool {
    !WeightFiles.isWeightsCandidate(name)
  }
}

/// What a finished download produced.
struct DownloadResult: Sendable {
  /// The file's size.
  var bytes: Int64
  /// The SHA-256 of the whole file.
  var sha256: String
  /// Bytes that were already on disk from an earlier, interrupted run.
  var resumedFrom: Int64
}

/// Streams a URL into `<final>.incomplete`, resuming with `Range` after a cut connection,
/// hashing while it writes, and renaming into place only when size and checksum are right.
///
/// A partial file is kept across runs (the next run resumes it, as `huggingface_hub` does with
/// its own `.incomplete` files); a file with the wrong checksum is deleted.
struct FileDownloader {
  let http: SourceHTTPClient
  /// Turns an unexpected HTTP status into the error the user sees.
  let statusError: (HTTPResponseHead) -> SourceError

  func download(
    _ request: DownloadRequest, incompletePath: String, finalPath: String
  ) throws(SourceError) -> DownloadResult {
    let progress = http.options.progress
    let attempts = http.options.maxAttempts
    if let limit = request.maximumSize, let size = request.expectedSize, size > limit {
      throw SourceError(
        .limitExceeded, file: request.label, reason: "the source announces \(size) bytes, over the \(limit)-byte limit")
    }
    let sink = try DownloadSink(
      path: incompletePath, label: request.label, expectedSize: request.expectedSize,
      maximumSize: request.maximumSize, progress: progress)
    defer {
      // A failed request that wrote nothing leaves no empty partial file behind.
      if sink.written == 0 { unlink(incompletePath) }
      sink.close()
    }
    let resumedFrom = sink.written
    var lastReason = ""
    var complete = false
    attemptLoop: for attempt in 1...attempts {
      if let size = request.expectedSize, sink.written == size, size > 0 {
        complete = true
        break
      }
      var headers: [String: String] = [:]
      if sink.written > 0 { headers["Range"] = "bytes=\(sink.written)-" }
      progress.report(.started(label: request.label, totalBytes: request.expectedSize, resumedAt: sink.written))
      let outcome = http.send(method: "GET", url: request.url, headers: headers, sink: sink, redirects: .all)
      let canRetry = attempt < attempts
      switch outcome {
      case .completed(let head):
        if head.status == 416 || sink.restartNeeded {
          try sink.reset()
          lastReason = "the server refused to resume at the partial size"
          continue attemptLoop
        }
        guard (200..<300).contains(head.status) else {
          if head.status >= 500 && canRetry {
            lastReason = "HTTP \(head.status)"
            continue attemptLoop
          }
          throw statusError(head)
        }
        if let total = sink.totalSize, sink.written < total {
          lastReason = "the connection closed after \(sink.written) of \(total) bytes"
          if canRetry { progress.report(.retrying(label: request.label, bytes: sink.written, reason: lastReason)) }
          continue attemptLoop
        }
        complete = true
        break attemptLoop
      case .transportFailed(_, let reason):
        lastReason = reason
        if canRetry { progress.report(.retrying(label: request.label, bytes: sink.written, reason: reason)) }
      case .stalled(let reason):
        throw SourceError(
          .transfer, file: request.label,
          reason: "\(reason); stopped after \(sink.written) bytes"
            + (sink.written > 0 ? " (the partial file is kept and the next run resumes it)" : ""))
      case .aborted(let error):
        if error.kind == .limitExceeded { unlink(incompletePath) }
        throw error
      }
    }
    guard complete else {
      let expected = (sink.totalSize ?? request.expectedSize).map { " of \($0)" } ?? ""
      if sink.written > 0 {
        throw SourceError(
          .transfer, file: request.label,
          reason: "truncated download: received \(sink.written)\(expected) bytes after \(attempts) "
            + "attempt(s) (\(lastReason)); the partial file is kept and the next run resumes it")
      }
      throw SourceError(
        .transfer, file: request.label,
        reason: "download from \(HTTPTransport.hostName(request.url)) failed after \(attempts) attempt(s): \(lastReason)")
    }
    let bytes = sink.written
    let digest = try sink.finish()
    if let size = request.expectedSize, bytes != size {
      unlink(incompletePath)
      throw SourceError(
        .unexpectedAnswer, file: request.label,
        reason: "size mismatch: expected \(size) bytes, received \(bytes); nothing was kept")
    }
    if let expected = request.expectedSHA256, expected != digest {
      unlink(incompletePath)
      throw SourceError(
        .unexpectedAnswer, file: request.label,
        reason: "checksum mismatch: the source says sha256 \(expected), the downloaded bytes hash to "
          + "\(digest); nothing was kept")
    }
    guard rename(incompletePath, finalPath) == 0 else {
      let reason = System.message()
      throw SourceError(.cache, file: finalPath, reason: "cannot move the download into place: \(reason)")
    }
    progress.report(.finished(label: request.label, bytes: bytes))
    return DownloadResult(bytes: bytes, sha256: digest, resumedFrom: resumedFrom)
  }
}

/// Appends a response body to the partial file, hashing as it goes.
final class DownloadSink: HTTPBodySink {
  private let path: String
  private let label: String
  private let expectedSize: Int64?
  private let maximumSize: Int64?
  private let progress: DownloadProgress
  private var descriptor: Int32
  private var hasher: SHA256Hasher?
  /// Bytes in the partial file (and in the hash).
  private(set) var written: Int64 = 0
  /// The full size the server announced for the current response.
  private(set) var totalSize: Int64?
  /// The server answered a range request with a different range; start again from zero.
  private(set) var restartNeeded = false

  /// Opens (or creates) the partial file and hashes what it already holds.
  init(
    path: String, label: String, expectedSize: Int64?, maximumSize: Int64? = nil, progress: DownloadProgress
  ) throws(SourceError) {
    self.path = path
    self.label = label
    self.expectedSize = expectedSize
    self.maximumSize = maximumSize
    self.progress = progress
    descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw Self.ioError(path, "cannot open the partial download") }
    var hasher = try SHA256Hasher(source: path)
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 { throw Self.ioError(path, "cannot read the partial download") }
      if count == 0 { break }
      buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
      written += Int64(count)
    }
    self.hasher = .some(hasher)
    if let expectedSize, written > expectedSize { try reset() }
  }

  /// Empties the partial file and the hash.
  func reset() throws(SourceError) {
    guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
      throw Self.ioError(path, "cannot truncate the partial download")
    }
    hasher = try SHA256Hasher(source: path)
    written = 0
    restartNeeded = false
  }

  func begin(_ head: HTTPResponseHead) throws(SourceError) -> Bool {
    restartNeeded = false
    totalSize = nil
    switch head.status {
    case 206:
      guard let range = head.header("content-range").flatMap(Self.parseContentRange), range.start == written
      else {
        try reset()
        restartNeeded = true
        return false
      }
      totalSize = range.total
    case 200:
      if written > 0 { try reset() }
      totalSize = head.header("content-length").flatMap { Int64($0) }
    default:
      return false
    }
    if let totalSize, let expectedSize, totalSize != expectedSize {
      throw SourceError(
        .unexpectedAnswer, file: label,
        reason: "the server sends \(totalSize) bytes but the file should have \(expectedSize)")
    }
    return true
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws(SourceError) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let count = System.retryingInterrupts { posixWrite(descriptor, base + offset, bytes.count - offset) }
      if count < 0 { throw Self.ioError(path, "cannot write the download") }
      offset += count
    }
    if let maximumSize, written + Int64(bytes.count) > maximumSize {
      throw SourceError(
        .limitExceeded, file: label,
        reason: "the server sends more than \(maximumSize) bytes for a metadata file; nothing was kept")
    }
    hasher?.update(bytes)
    written += Int64(bytes.count)
    if let totalSize, written > totalSize {
      throw SourceError(.unexpectedAnswer, file: label, reason: "the server sent more than \(totalSize) bytes")
    }
    progress.report(
      .progressed(
        ProgressUpdate(task: label, bytesDone: Int(written), bytesTotal: (totalSize ?? expectedSize).map { Int($0) })))
  }

  /// Flushes the file to disk and returns the SHA-256 of everything written.
  func finish() throws(SourceError) -> String {
    guard fsync(descriptor) == 0 else { throw Self.ioError(path, "cannot flush the download") }
    guard let hasher = hasher.take() else { return "" }
    return hasher.finalizeHex()
  }

  /// Closes the partial file (idempotent).
  func close() {
    if descriptor >= 0 {
      posixClose(descriptor)
      descriptor = -1
    }
  }

  /// `bytes a-b/total` → start and total.
  static func parseContentRange(_ text: String) -> (start: Int64, total: Int64?)? {
    guard text.hasPrefix("bytes ") else { return nil }
    let spec = text.dropFirst("bytes ".count)
    let halves = spec.split(separator: "/", maxSplits: 1)
    guard halves.count == 2, let dash = halves[0].firstIndex(of: "-"),
      let start = Int64(halves[0][..<dash])
    else { return nil }
    return (start, Int64(halves[1]))
  }

  static func ioError(_ path: String, _ what: String) -> SourceError {
    SourceError(.cache, file: path, reason: "\(what): \(System.message())")
  }
}

/// `write(2)`, named so the sink's own `write` does not shadow it.
func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}

/// `close(2)`, named so the sink's own `close` does not shadow it.
private func posixClose(_ descriptor: Int32) {
  _ = close(descriptor)
}
