import Foundation
import Testing

@testable import Inspect

/// The reading layer refuses the absent bytes of a stand-in of a remote file (a file with a
/// `.name.present.json` record): tensors outside the fetched ranges, and whole-file digests.
@Suite("Stand-ins: reads of absent bytes are refused")
struct PresentBytesTests {
  /// A two-tensor file: `a` (4 × F32 = 16 bytes) then `b` (16 bytes), data 1…32.
  static let json = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}"#

  /// Writes the file (real bytes everywhere) and a record claiming `present` only.
  static func standIn(_ scratch: ScratchDirectory, present: [(Int64, Int64)]) throws -> (path: String, header: Int) {
    let bytes = SafetensorsBytes.make(header: Array(json.utf8), data: (1...32).map { UInt8($0) })
    let path = try scratch.write("model.safetensors", bytes)
    let record = PresentBytes(
      size: Int64(bytes.count),
      ranges: present.map { FetchedRange(file: "model.safetensors", offset: $0.0, length: $0.1, sha256: "x") })
    try scratch.write(".model.safetensors.present.json", record.encoded())
    return (path, 8 + json.utf8.count)
  }

  @Test("a tensor outside the fetched ranges: notFetched naming the file, offset and tensor; no bytes handed out")
  func refusesAbsentTensor() throws {
    let scratch = try ScratchDirectory()
    let (path, header) = try Self.standIn(scratch, present: [(0, Int64(Self.json.utf8.count + 8))])
    let checkpoint = try CheckpointReader.open(path)
    #expect(checkpoint.files.map { $0.name } == ["model.safetensors"])  // the record is not a checkpoint file
    let tensor = try #require(checkpoint.tensor(named: "a"))
    let reader = TensorReader()
    var delivered = 0
    do {
      try reader.forEachChunk(of: tensor) { delivered += $0.count }
      Issue.record("read absent bytes")
    } catch let error as CheckpointError {
      #expect(error.kind == .notFetched)
      #expect(error.file == path)
      #expect(error.tensor == "a")
      #expect(error.offset == UInt64(header))
      #expect(error.description.contains("were not fetched"))
    }
    #expect(delivered == 0)
    #expect(throws: CheckpointError.self) { _ = try reader.contiguousBytes(of: tensor) }
    #expect(throws: CheckpointError.self) { _ = try reader.bytes(of: tensor) }
  }

  @Test("a fetched tensor reads; the one beside it does not")
  func readsFetchedTensor() throws {
    let scratch = try ScratchDirectory()
    let headerLength = Int64(Self.json.utf8.count + 8)
    let (path, _) = try Self.standIn(scratch, present: [(0, headerLength), (headerLength + 16, 16)])
    let checkpoint = try CheckpointReader.open(path)
    let reader = TensorReader()
    let b = try reader.bytes(of: try #require(checkpoint.tensor(named: "b")))
    #expect(b == (17...32).map { UInt8($0) })
    #expect(throws: CheckpointError.self) { _ = try reader.bytes(of: try #require(checkpoint.tensor(named: "a"))) }
  }

  @Test("whole-file digests of a stand-in are refused unless every byte is present")
  func refusesFileDigest() throws {
    let scratch = try ScratchDirectory()
    let headerLength = Int64(Self.json.utf8.count + 8)
    let (path, _) = try Self.standIn(scratch, present: [(0, headerLength), (headerLength + 16, 16)])
    do {
      _ = try CheckpointHasher.sha256(ofFile: path)
      Issue.record("hashed a stand-in")
    } catch {
      #expect(error.kind == .notFetched)
      #expect(error.file == path)
    }
    // Adjacent pieces covering everything: a complete stand-in hashes like the file.
    let whole = try Self.standIn(scratch, present: [(0, headerLength), (headerLength, 16), (headerLength + 16, 16)])
    let digest = try CheckpointHasher.sha256(ofFile: whole.path)
    try FileManager.default.removeItem(atPath: scratch.path + "/.model.safetensors.present.json")
    #expect(digest == (try CheckpointHasher.sha256(ofFile: whole.path)))
  }

  @Test("a record that cannot be parsed makes the file unreadable, never whole")
  func malformedRecord() throws {
    let scratch = try ScratchDirectory()
    let (path, _) = try Self.standIn(scratch, present: [])
    try scratch.write(".model.safetensors.present.json", text: "{\"format\": \"something-else\"}")
    let checkpoint = try CheckpointReader.open(path)
    do {
      _ = try TensorReader().bytes(of: try #require(checkpoint.tensor(named: "a")))
      Issue.record("read a file whose record is malformed")
    } catch let error as CheckpointError {
      #expect(error.kind == .malformed)
      #expect(error.file.hasSuffix("/.model.safetensors.present.json"))
    }
  }

  @Test("coverage: adjacent ranges join, gaps do not, empty spans are always present")
  func coverage() {
    let ranges = [(0, 10), (10, 5), (20, 5)].map { FetchedRange(file: "f", offset: $0.0, length: $0.1, sha256: "") }
    #expect(FetchedRange.cover(ranges, offset: 2, length: 13))
    #expect(!FetchedRange.cover(ranges, offset: 2, length: 14))
    #expect(!FetchedRange.cover(ranges, offset: 14, length: 7))
    #expect(FetchedRange.cover(ranges, offset: 20, length: 5))
    #expect(FetchedRange.cover(ranges, offset: 100, length: 0))
    #expect(PresentBytes.recordPath(for: "/a/b/model.safetensors") == "/a/b/.model.safetensors.present.json")
  }
}
