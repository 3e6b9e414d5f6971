import Foundation
import Inspect
import Platform


/// Receives the answer to `Range: bytes=offset-(offset+length-1)` into memory or a file,
/// hashing it, and checks that the server sent exactly that range of a file of `fileSize` bytes.
///
/// A server that ignores `Range` answers 200 with the whole file: the sink skips to `offset`,
/// keeps `length` bytes and then reports itself satisfied, so the transfer stops there
/// (``ignoredRange`` says it happened).
final class RangeSink: HTTPBodySink {
  let offset: Int64
  let length: Int64
  let fileSize: Int64?
  let label: String
  /// The destination file, or nil to keep the bytes in ``bytes``.
  private var descriptor: Int32 = -1
  private(set) var bytes: [UInt8] = []
  private var hasher: SHA256Hasher?
  /// Bytes of the full body to skip before the range (a 200 answer).
  private var toSkip: Int64 = 0
  /// Bytes of the range kept so far.
  private(set) var kept: Int64 = 0
  /// The server answered 200 with the whole file instead of 206.
  private(set) var ignoredRange = false
  /// Body bytes received (the skipped ones included).
  private(set) var received: Int64 = 0

  /// A sink for the range; `path` (created or truncated) receives it, or memory when nil.
  init(offset: Int64, length: Int64, fileSize: Int64?, label: String, path: String?) throws(SourceError) {
    self.offset = offset
    self.length = length
    self.fileSize = fileSize
    self.label = label
    hasher = try SHA256Hasher(source: label)
    if let path {
      descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else { throw DownloadSink.ioError(path, "cannot create the range piece") }
    }
  }

  deinit { closeFile() }

  /// Closes the destination file (idempotent).
  func closeFile() {
    if descriptor >= 0 {
      _ = close(descriptor)
      descriptor = -1
    }
  }

  var isSatisfied: Bool { kept == length }

  /// `"bytes=a-b"`.
  var rangeHeader: String { "bytes=\(offset)-\(offset + length - 1)" }

  func begin(_ head: HTTPResponseHead) throws(SourceError) -> Bool {
    switch head.status {
    case 206:
      guard let range = head.header("content-range").flatMap(Self.parseContentRange),
        range.start == offset, range.end == offset + length - 1
      else {
        throw SourceError(
          .unexpectedAnswer, file: label,
          reason: "asked for \(rangeHeader), the server sent '\(head.header("content-range") ?? "no Content-Range")'")
      }
      if let fileSize, let total = range.total, total != fileSize {
        throw SourceError(
          .unexpectedAnswer, file: label, reason: "the server says the file has \(total) bytes, the Hub said \(fileSize)")
      }
    case 200:
      ignoredRange = true
      toSkip = offset
    default:
      return false
    }
    return true
  }

  func write(_ chunk: UnsafeRawBufferPointer) throws(SourceError) {
    received += Int64(chunk.count)
    var slice = chunk
    if toSkip > 0 {
      let skip = Int(min(Int64(slice.count), toSkip))
      toSkip -= Int64(skip)
      slice = UnsafeRawBufferPointer(rebasing: slice[skip...])
    }
    let take = Int(min(Int64(slice.count), length - kept))
    guard take > 0, let base = slice.baseAddress else { return }
    let piece = UnsafeRawBufferPointer(start: base, count: take)
    hasher?.update(piece)
    if descriptor >= 0 {
      var done = 0
      while done < take {
        let count = posixWrite(descriptor, base + done, take - done)
        if count < 0 {
          if errno == EINTR { continue }
          throw SourceError(.cache, file: label, reason: "cannot write the range piece: \(String(cString: strerror(errno)))")
        }
        done += count
      }
    } else {
      bytes.append(contentsOf: piece)
    }
    kept += Int64(take)
  }

  /// SHA-256 of the range's bytes.
  func finish() -> String {
    closeFile()
    return hasher.take()?.finalizeHex() ?? ""
  }

  /// `bytes a-b/total` → start, end and total (nil for `*`).
  static func parseContentRange(_ text: String) -> (start: Int64, end: Int64, total: Int64?)? {
    guard text.hasPrefix("bytes ") else { return nil }
    let halves = text.dropFirst("bytes ".count).split(separator: "/", maxSplits: 1)
    guard halves.count == 2, let dash = halves[0].firstIndex(of: "-"),
      let start = Int64(halves[0][..<dash]), let end = Int64(halves[0][halves[0].index(after: dash)...])
    else { return nil }
    return (start, end, Int64(halves[1]))
  }
}
