import Foundation
import Inspect
import Testing

@testable import Convert

@Suite("FileSink")
struct FileSinkTests {
  /// Deterministic bytes that differ at every block, so a misplaced or dropped buffer shows.
  static func pattern(count: Int) -> [UInt8] {
    var words = [UInt64](repeating: 0, count: count / 8 + 1)
    var state: UInt64 = 12_345
    for index in words.indices {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      words[index] = state
    }
    return words.withUnsafeBytes { Array($0.prefix(count)) }
  }

  /// Writes `bytes` in pieces of uneven sizes and returns what the sink reported.
  static func write(_ bytes: [UInt8], to path: String) throws -> (sha256: String, size: Int) {
    let sink = try FileSink(path: path, displayName: "out/model.safetensors")
    let pieces = [1, 8, 4095, 4097, 3 << 20, 7 << 20, 12_345]
    var offset = 0
    var index = 0
    while offset < bytes.count {
      let take = min(pieces[index % pieces.count], bytes.count - offset)
      try sink.write(Array(bytes[offset..<offset + take]))
      offset += take
      index += 1
    }
    return (try sink.finish(), sink.size)
  }

  // More buffers than the ring holds (direct writes), then a tail that is not a whole block
  // (buffered).
  @Test("bytes and SHA-256 are those of a sequential write, through direct and buffered writes")
  func sequentialBytesAndDigest() throws {
    let bytes = Self.pattern(count: (FileSink.bufferCount + 1) * FileSink.bufferSize + 4_321)
    let directory = try makeTemporaryDirectory()
    let path = directory + "/model.safetensors"
    let result = try Self.write(bytes, to: path)
    let onDisk = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(result.size == bytes.count)
    #expect(onDisk.count == bytes.count)
    #expect(onDisk == Data(bytes))
    #expect(try result.sha256 == bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) })
  }

  @Test("an exact multiple of the buffer size has no buffered tail and is written whole")
  func wholeBuffers() throws {
    let bytes = Self.pattern(count: 3 * FileSink.bufferSize)
    let path = try makeTemporaryDirectory() + "/whole.bin"
    let result = try Self.write(bytes, to: path)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    #expect(try result.sha256 == bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) })
  }

  // tmpfs and other memory file systems may refuse direct I/O; the sink must fall back.
  @Test(
    "a memory file system gets the same bytes",
    .enabled(if: FileManager.default.isWritableFile(atPath: "/dev/shm")))
  func memoryFileSystem() throws {
    let directory = "/dev/shm/speculators-filesink-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let bytes = Self.pattern(count: FileSink.bufferSize + 999)
    let result = try Self.write(bytes, to: directory + "/x.bin")
    #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/x.bin")) == Data(bytes))
    #expect(try result.sha256 == bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) })
  }

  @Test("an existing file is refused with a message naming it, and left as it was")
  func existingFile() throws {
    let path = try makeTemporaryDirectory() + "/taken.bin"
    try Data("keep".utf8).write(to: URL(fileURLWithPath: path))
    #expect {
      _ = try FileSink(path: path, displayName: "out/taken.bin")
    } throws: { error in
      let error = error as? ConversionError
      return error?.file == "out/taken.bin" && error?.reason.hasPrefix("cannot create: File exists") == true
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("keep".utf8))
  }
}

@Suite("ConversionError")
struct ConversionErrorTests {
  @Test("renders as file: tensor: reason with untrusted names escaped, as a reading error does")
  func line() {
    let error = ConversionError(.refused, file: "out\u{7}", tensor: "t\u{1B}", reason: "no")
    #expect(error.description == "out\\x07: tensor 't\\x1b': no")
    #expect(error.description == CheckpointError(.io, file: "out\u{7}", tensor: "t\u{1B}", reason: "no").description)
  }
}
