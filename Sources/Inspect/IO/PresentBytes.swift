import Platform

/// Which bytes of a local stand-in of a remote file are real.
///
/// A stand-in (what a header-only or single-tensor read of a Hub or URL safetensors file
/// leaves on disk) has the remote file's size and header, but only the byte ranges that were
/// fetched hold data; everything else is a hole that reads as zeros. Beside each stand-in
/// `dir/name` lies its record, `dir/.name.present.json`:
///
/// ```json
/// {"format": "speculators-stand-in/1", "size": 3145728,
///  "present": [{"offset": 0, "length": 1032, "sha256": "…"}, …]}
/// ```
///
/// The reading layer (``TensorReader``, ``CheckpointHasher``) looks for that record whenever
/// it maps a file and refuses to hand out bytes outside the present ranges, so no command can
/// read zeros from a hole in place of a tensor. Dot files are not part of a checkpoint
/// (``CheckpointReader`` skips them), so the record never shows up in a file list.
package struct PresentBytes: Sendable, Equatable {
  /// The record's `format` value.
  package static let format = "speculators-stand-in/1"

  /// The remote file's size (the stand-in's size).
  package var size: Int64
  /// The ranges that hold real bytes, each with its SHA-256.
  package var ranges: [FetchedRange]

  /// Creates a record.
  package init(size: Int64, ranges: [FetchedRange]) {
    self.size = size
    self.ranges = ranges
  }

  /// Where the record of the stand-in at `path` lives: `dir/.name.present.json`.
  package static func recordPath(for path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." + path + ".present.json" }
    return String(path[...slash]) + "." + path[path.index(after: slash)...] + ".present.json"
  }

  /// Whether every byte of `offset ..< offset + length` is present (an empty range always is).
  package func holds(offset: Int, length: Int) -> Bool {
    FetchedRange.cover(ranges, offset: Int64(offset), length: Int64(length))
  }

  /// Whether every byte of the file is present.
  package var isComplete: Bool { holds(offset: 0, length: Int(clamping: size)) }

  /// The record as JSON text.
  package func encoded() -> [UInt8] {
    let json: JSONValue = [
      "format": .string(Self.format), "size": .int(size),
      "present": .array(
        ranges.sorted { $0.offset < $1.offset }.map {
          ["offset": .int($0.offset), "length": .int($0.length), "sha256": .string($0.sha256)]
        }),
    ]
    return Array(JSONWriter.pretty(json).utf8)
  }

  /// The record of the file at `path`, or nil when it has none (an ordinary, whole file).
  ///
  /// - Throws: ``CheckpointError`` (`malformed`, naming the record) when a record exists but
  ///   cannot be read or parsed: the file is then treated as a stand-in whose bytes are unknown,
  ///   never as a whole file.
  package static func of(_ path: String) throws(CheckpointError) -> PresentBytes? {
    let record = recordPath(for: path)
    guard FileSystem.existsWithoutFollowingLinks(record) else { return nil }
    let mapped = try MappedFile(path: record)
    let json: JSONValue
    do {
      json = try StrictJSONParser.parse(mapped.bytes)
    } catch {
      throw CheckpointError(.malformed, file: record, offset: UInt64(max(0, error.offset)), reason: error.reason)
    }
    guard json["format"]?.stringValue == format, let size = json["size"]?.intValue, size >= 0,
      let list = json["present"]?.arrayValue
    else {
      throw CheckpointError(.malformed, file: record, reason: "not a \(format) record (format, size, present)")
    }
    let name = String(path.split(separator: "/").last ?? Substring(path))
    var ranges: [FetchedRange] = []
    for item in list {
      guard let offset = item["offset"]?.intValue, let length = item["length"]?.intValue, offset >= 0, length >= 0,
        offset <= size, length <= size - offset, let sha = item["sha256"]?.stringValue
      else {
        throw CheckpointError(.malformed, file: record, reason: "a present range is not {offset, length, sha256} inside the file")
      }
      ranges.append(FetchedRange(file: name, offset: Int64(offset), length: Int64(length), sha256: sha))
    }
    return PresentBytes(size: Int64(size), ranges: ranges)
  }

  /// The error for reading bytes `offset ..< offset + length` of `tensor` (or of the whole
  /// file, when nil) from the stand-in at `path`.
  package static func absentError(path: String, offset: Int, length: Int, tensor: String?) -> CheckpointError {
    let what = tensor == nil ? "the file's bytes" : "the tensor's bytes"
    return CheckpointError(
      .notFetched, file: path, offset: UInt64(max(0, offset)), tensor: tensor,
      reason: "\(what) (\(length) at offset \(offset)) were not fetched: this is a stand-in of a remote file "
        + "holding only its header and the ranges read by HTTP Range; fetch the whole file (--download) to read them")
  }
}

extension FetchedRange {
  /// Whether every byte of `offset ..< offset + length` lies inside `ranges` (an empty range
  /// always does).
  package static func cover(_ ranges: [FetchedRange], offset: Int64, length: Int64) -> Bool {
    guard length > 0 else { return true }
    // Walk the ranges in order, extending the covered prefix of the asked-for span: adjacent
    // pieces (a header, then the tensor after it) cover it together.
    var reached = offset
    let end = offset + length
    for range in ranges.sorted(by: { $0.offset < $1.offset }) where range.length > 0 {
      if range.offset > reached { break }
      reached = max(reached, range.offset + range.length)
      if reached >= end { return true }
    }
    return false
  }
}
