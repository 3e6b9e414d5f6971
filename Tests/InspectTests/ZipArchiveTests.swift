import Foundation
import Testing

@testable import Inspect

@Suite struct ZipCRC32Tests {
  @Test func matchesTheStandardCheckValue() {
    let value = Array("123456789".utf8).withUnsafeBytes { ZipCRC32.checksum($0) }
    #expect(value == 0xCBF4_3926)
  }

  @Test func slicedAndStreamedAgreeWithBitwiseReference() {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<1_037).map { _ in UInt8.random(in: 0...255, using: &generator) }
    var reference: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      reference ^= UInt32(byte)
      for _ in 0..<8 { reference = reference & 1 != 0 ? (reference >> 1) ^ 0xEDB8_8320 : reference >> 1 }
    }
    reference ^= 0xFFFF_FFFF
    var streamed = ZipCRC32()
    bytes.withUnsafeBytes { all in
      streamed.update(UnsafeRawBufferPointer(rebasing: all[0..<3]))
      streamed.update(UnsafeRawBufferPointer(rebasing: all[3..<700]))
      streamed.update(UnsafeRawBufferPointer(rebasing: all[700...]))
    }
    #expect(streamed.value == reference)
    #expect(bytes.withUnsafeBytes { ZipCRC32.checksum($0) } == reference)
  }
}

@Suite struct ZipArchiveTests {
  @Test func readsTheGoldenTorchArchive() throws {
    let file = try MappedFile(path: TorchFixtures.path("golden-ex.pt"))
    let archive = try ZipArchive(file)
    #expect(archive.entries.map(\.name) == [
      "ex/data.pkl", "ex/.format_version", "ex/.storage_alignment", "ex/byteorder", "ex/data/0",
      "ex/version", "ex/.data/serialization_id",
    ])
    #expect(archive.entries.map(\.dataOffset) == [64, 384, 512, 576, 704, 832, 960])
    #expect(archive.centralDirectoryOffset == 1016)
    let storage = try #require(archive.entry(named: "ex/data/0"))
    #expect(Array(archive.data(of: storage)) == goldenStorageBytes)
    try archive.verifyChecksum(of: storage)
  }

  @Test(arguments: [true, false])
  func readsBuiltArchivesWithAndWithoutZip64(zip64: Bool) throws {
    var builder = ZipFixtureBuilder()
    builder.zip64 = zip64
    builder.add("a/data.pkl", "hello")
    builder.add("a/data/0", [1, 2, 3, 4])
    builder.add("a/empty", [])
    let archive = try ZipArchive(try mapTempFile(builder.bytes()))
    #expect(archive.entries.map(\.name) == ["a/data.pkl", "a/data/0", "a/empty"])
    #expect(archive.entries.map(\.size) == [5, 4, 0])
    #expect(archive.entry(named: "a/data/0").map { Array(archive.data(of: $0)) } == [1, 2, 3, 4])
  }

  /// Each case breaks one thing; the reader must refuse with this kind and message.
  typealias Breaker = @Sendable (inout ZipFixtureBuilder) -> Void

  static let brokenArchives: [(String, Breaker, CheckpointError.Kind, String)] = [
    ("deflated", { $0.entries[1].method = 8 }, .refused,
     "zip entry 'a/data/0' is compressed (method 8); torch.save never compresses"),
    ("encrypted", { $0.entries[0].flags |= 1 }, .refused, "zip entry 'a/data.pkl' is encrypted"),
    ("local name", { $0.entries[1].localName = "a/data/9" }, .malformed,
     "local header names 'a/data/9' but the central directory names 'a/data/0'"),
    ("duplicate", { $0.add("a/data/0", [9]) }, .malformed, "zip entry 'a/data/0' appears twice"),
    ("dot-dot", { $0.add("a/../etc/passwd", [9]) }, .malformed, "contains a '..' component"),
    ("absolute", { $0.add("/etc/passwd", [9]) }, .malformed, "is an absolute path"),
    ("backslash", { $0.add("a\\data\\1", [9]) }, .malformed, "contains a backslash"),
    ("empty component", { $0.add("a//x", [9]) }, .malformed, "has an empty path component"),
    ("control character", { $0.add("a/x\u{1}", [9]) }, .malformed, "'a/x\\x01' contains control characters"),
    ("bad crc", { $0.entries[1].crc = 0x1234_5678 }, .malformed, "zip entry 'a/data/0' fails its CRC-32 check"),
    ("overlap", { $0.entries[0].declaredSize = 40 }, .malformed,
     "zip entries 'a/data.pkl' and 'a/data/0' overlap"),
    ("directory past eof", { $0.directoryOffsetDelta = 1 << 20 }, .malformed, "lies outside the file"),
    ("directory shifted", { $0.directoryOffsetDelta = -4 }, .malformed,
     "central directory ends at offset"),
  ]

  @Test(arguments: brokenArchives.indices)
  func refusesBrokenArchives(index: Int) throws {
    let (label, breakIt, kind, message) = Self.brokenArchives[index]
    var builder = ZipFixtureBuilder()
    builder.add("a/data.pkl", "hello")
    builder.add("a/data/0", [1, 2, 3, 4])
    breakIt(&builder)
    let file = try mapTempFile(builder.bytes())
    let error = caughtError { _ = try ZipArchive(file) }
    #expect(error?.kind == kind, "\(label)")
    #expect(error?.reason.contains(message) == true, "\(label): \(String(describing: error))")
    #expect(error?.file == file.path)
  }

  @Test func readsZip64ExtraFields() throws {
    var builder = ZipFixtureBuilder()
    builder.add("a/data.pkl", "hello")
    builder.add("a/data/0", [1, 2, 3, 4])
    builder.entries[1].zip64Extra = true
    let archive = try ZipArchive(try mapTempFile(builder.bytes()))
    let entry = try #require(archive.entry(named: "a/data/0"))
    #expect(entry.size == 4)
    #expect(entry.localHeaderOffset == 30 + 10 + 5 + 16)
    #expect(Array(archive.data(of: entry)) == [1, 2, 3, 4])
  }

  @Test func zeroCRCMeansChecksumsWereDisabled() throws {
    var builder = ZipFixtureBuilder()
    builder.add("a/data.pkl", "hello")
    builder.entries[0].crc = 0
    let archive = try ZipArchive(try mapTempFile(builder.bytes()))
    #expect(archive.entries[0].crc32 == 0)
  }

  @Test func truncatedArchiveHasNoEndRecord() throws {
    var builder = ZipFixtureBuilder()
    builder.add("a/data.pkl", "hello")
    let bytes = builder.bytes()
    let error = caughtError { _ = try ZipArchive(try mapTempFile(Array(bytes.dropLast(30)))) }
    #expect(error?.kind == .malformed)
    #expect(error?.reason.contains("no zip end-of-central-directory record") == true)
  }

  @Test func entryCountIsCapped() throws {
    var builder = ZipFixtureBuilder()
    for index in 0..<5 { builder.add("a/\(index)", [UInt8(index)]) }
    var limits = ZipArchive.Limits()
    limits.maxEntries = 4
    let file = try mapTempFile(builder.bytes())
    let error = caughtError { _ = try ZipArchive(file, limits: limits) }
    #expect(error?.kind == .limitExceeded)
    #expect(error?.reason == "zip declares 5 entries; the limit is 4")
  }

  @Test func largeEntriesSkipTheChecksumUntilAsked() throws {
    var builder = ZipFixtureBuilder()
    builder.add("a/data/0", [UInt8](repeating: 7, count: 64))
    builder.entries[0].crc = 0xDEAD_BEEF
    var limits = ZipArchive.Limits()
    limits.checksumSizeLimit = 16
    let archive = try ZipArchive(try mapTempFile(builder.bytes()), limits: limits)
    let error = caughtError { try archive.verifyChecksum(of: archive.entries[0]) }
    #expect(error?.reason.contains("fails its CRC-32 check (recorded 0xdeadbeef") == true)
  }
}
