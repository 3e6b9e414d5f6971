import Foundation
import Inspect
import Platform


/// Pieces of remote files read by HTTP Range, and the local stand-ins built from them, in the
/// speculators cache (never the Hugging Face cache, whose blobs other tools trust to be whole):
///
/// ```
/// <ranges>/models--org--name/refs/<revision>                   the commit the revision pointed to
/// <ranges>/models--org--name/files/<commit>/<file>.json        etag, size and pieces of one file
/// <ranges>/models--org--name/pieces/<etag>/<offset>-<length>   the bytes of one piece
/// <ranges>/models--org--name/standins/<commit>/<file>          sparse stand-in: real size, header
///                                                              and pieces; every other byte absent
/// <ranges>/models--org--name/standins/<commit>/.<file>.present.json   which bytes it holds
/// ```
///
/// Pieces are keyed by the file's ETag (its LFS SHA-256) and the range, so a second run needs no
/// request, and a piece is re-hashed against its record whenever it is used.
struct RangeCache {
  /// `<ranges>/models--org--name`.
  let root: String

  /// What is known of one remote file.
  struct FileRecord: Equatable {
    var etag: String
    var size: Int64
    /// Pieces held, each with the SHA-256 of its bytes.
    var pieces: [FetchedRange]
  }

  func recordPath(commit: String, file: String) -> String { root + "/files/" + commit + "/" + file + ".json" }
  func piecePath(etag: String, offset: Int64, length: Int64) -> String {
    root + "/pieces/" + etag + "/\(offset)-\(length)"
  }
  func standInDirectory(commit: String) -> String { root + "/standins/" + commit }

  /// The commit recorded for `revision` (a commit id is its own).
  func commit(for revision: String) -> String? {
    if HubRepository.isCommitHash(revision) { return revision }
    guard let text = try? String(contentsOfFile: root + "/refs/" + revision, encoding: .utf8) else { return nil }
    let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return HubRepository.isCommitHash(commit) ? commit : nil
  }

  func writeReference(revision: String, commit: String) throws(SourceError) {
    guard revision != commit else { return }
    try writeAtomically(root + "/refs/" + revision, contents: Array(commit.utf8))
  }

  func record(commit: String, file: String) -> FileRecord? {
    guard let data = FileManager.default.contents(atPath: recordPath(commit: commit, file: file)),
      let json = try? StrictJSONParser.parse([UInt8](data)),
      let etag = json["etag"]?.stringValue, let size = json["size"]?.intValue, let list = json["pieces"]?.arrayValue
    else { return nil }
    var pieces: [FetchedRange] = []
    for item in list {
      guard let offset = item["offset"]?.intValue, let length = item["length"]?.intValue,
        let sha = item["sha256"]?.stringValue
      else { return nil }
      pieces.append(FetchedRange(file: file, offset: Int64(offset), length: Int64(length), sha256: sha))
    }
    return FileRecord(etag: etag, size: Int64(size), pieces: pieces)
  }

  func save(_ record: FileRecord, commit: String, file: String) throws(SourceError) {
    let json: JSONValue = [
      "etag": .string(record.etag), "size": .int(record.size),
      "pieces": .array(
        record.pieces.map { ["offset": .int($0.offset), "length": .int($0.length), "sha256": .string($0.sha256)] }),
    ]
    try writeAtomically(recordPath(commit: commit, file: file), contents: Array(JSONWriter.pretty(json).utf8))
  }

  /// The bytes of a recorded piece, checked against its SHA-256; nil when missing or changed.
  func pieceBytes(_ piece: FetchedRange, etag: String) -> MappedFile? {
    guard let mapped = try? MappedFile(path: piecePath(etag: etag, offset: piece.offset, length: piece.length)),
      mapped.bytes.count == Int(piece.length), (try? SHA256Hasher.hex(of: mapped.bytes)) == piece.sha256
    else { return nil }
    return mapped
  }

  /// Writes the sparse stand-in of `file`: `record.size` bytes, each piece at its offset.
  func buildStandIn(_ record: FileRecord, commit: String, file: String) throws(SourceError) -> String {
    let path = standInDirectory(commit: commit) + "/" + file
    try createDirectory((path as NSString).deletingLastPathComponent)
    let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let descriptor = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw DownloadSink.ioError(temporary, "cannot create the stand-in") }
    defer { _ = close(descriptor) }
    guard ftruncate(descriptor, off_t(record.size)) == 0 else {
      unlink(temporary)
      throw DownloadSink.ioError(temporary, "cannot size the stand-in")
    }
    for piece in record.pieces {
      guard let mapped = pieceBytes(piece, etag: record.etag) else {
        unlink(temporary)
        throw SourceError(
          .cache, file: piecePath(etag: record.etag, offset: piece.offset, length: piece.length),
          reason: "a cached range piece is missing or does not match its SHA-256")
      }
      var done = 0
      let bytes = mapped.bytes
      while done < bytes.count {
        guard let base = bytes.baseAddress else { break }
        let count = pwrite(descriptor, base + done, bytes.count - done, off_t(piece.offset) + off_t(done))
        if count < 0 {
          if errno == EINTR { continue }
          unlink(temporary)
          throw DownloadSink.ioError(temporary, "cannot write the stand-in")
        }
        done += count
      }
    }
    // The stand-in is never in place without a record of what it holds (``PresentBytes``),
    // which the readers check: a first record goes in before the stand-in; a rebuilt stand-in
    // holds every piece of the previous one, so its new record follows it.
    let present = PresentBytes(size: record.size, ranges: record.pieces).encoded()
    let recordPath = PresentBytes.recordPath(for: path)
    let hadRecord = FileManager.default.fileExists(atPath: recordPath)
    if !hadRecord { try writeAtomically(recordPath, contents: present) }
    guard rename(temporary, path) == 0 else {
      unlink(temporary)
      throw DownloadSink.ioError(path, "cannot move the stand-in into place")
    }
    if hadRecord { try writeAtomically(recordPath, contents: present) }
    return path
  }
}
