import Foundation
import Testing

@testable import Inspect

// Helpers shared by the zip, pickle and torch reader tests.

/// Builds small STORED zip archives byte by byte, with knobs to break them.
struct ZipFixtureBuilder {
  struct Entry {
    var name: String
    var data: [UInt8]
    /// Method written to both headers (0 = stored).
    var method: UInt16 = 0
    var flags: UInt16 = 0x0808
    /// CRC written to the central directory; `nil` means the real CRC.
    var crc: UInt32?
    /// Size written to the central directory; `nil` means the real size.
    var declaredSize: Int?
    /// Name written to the local header; `nil` means `name`.
    var localName: String?
    /// Writes the sizes and local header offset as ZIP64 sentinels plus a ZIP64 extra field
    /// (as writers do for entries at or beyond 4 GiB).
    var zip64Extra = false
  }

  var entries: [Entry] = []
  var zip64 = true
  /// Added to the central directory offset written in the end records.
  var directoryOffsetDelta = 0

  mutating func add(_ name: String, _ data: [UInt8]) {
    entries.append(Entry(name: name, data: data))
  }

  mutating func add(_ name: String, _ text: String) {
    add(name, Array(text.utf8))
  }

  func bytes() -> [UInt8] {
    var out = [UInt8]()
    var central = [UInt8]()
    for entry in entries {
      let offset = out.count
      let crc = entry.crc ?? data(entry.data) { ZipCRC32.checksum($0) }
      let size = entry.declaredSize ?? entry.data.count
      let localName = Array((entry.localName ?? entry.name).utf8)
      let name = Array(entry.name.utf8)
      out += u32le(0x0403_4B50) + u16le(0) + u16le(entry.flags) + u16le(entry.method) + u16le(0) + u16le(0)
      out += u32le(0) + u32le(0) + u32le(0) + u16le(localName.count) + u16le(0) + localName
      out += entry.data
      out += u32le(0x0807_4B50) + u32le(crc) + u32le(size) + u32le(size)
      let extra = entry.zip64Extra ? u16le(1) + u16le(24) + u64le(size) + u64le(size) + u64le(offset) : []
      let size32 = entry.zip64Extra ? 0xFFFF_FFFF : size
      let offset32 = entry.zip64Extra ? 0xFFFF_FFFF : offset
      central += u32le(0x0201_4B50) + u16le(0) + u16le(0) + u16le(entry.flags) + u16le(entry.method)
      central += u16le(0) + u16le(0) + u32le(crc) + u32le(size32) + u32le(size32) + u16le(name.count)
      central += u16le(extra.count) + u16le(0) + u16le(0) + u16le(0) + u32le(0) + u32le(offset32) + name + extra
    }
    let directoryOffset = out.count + directoryOffsetDelta
    out += central
    if zip64 {
      let zip64Offset = out.count
      out += u32le(0x0606_4B50) + u64le(44) + u16le(45) + u16le(45) + u32le(0) + u32le(0)
      out += u64le(entries.count) + u64le(entries.count) + u64le(central.count) + u64le(directoryOffset)
      out += u32le(0x0706_4B50) + u32le(0) + u64le(zip64Offset) + u32le(1)
    }
    out += u32le(0x0605_4B50) + u16le(0) + u16le(0) + u16le(entries.count) + u16le(entries.count)
    out += u32le(central.count) + u32le(directoryOffset) + u16le(0)
    return out
  }

  private func data<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) -> T) -> T {
    bytes.withUnsafeBytes(body)
  }
}

func u16le(_ value: Int) -> [UInt8] { u16le(UInt16(truncatingIfNeeded: value)) }
func u16le(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
func u32le(_ value: Int) -> [UInt8] { u32le(UInt32(truncatingIfNeeded: value)) }
func u32le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
func u64le(_ value: Int) -> [UInt8] {
  (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: Int64(value)) >> (8 * $0)) }
}

/// One directory per test process for ``mapTempFile(_:name:)``, removed when the process exits
/// (the fuzz-style tests map tens of thousands of files; one directory each filled /tmp).
let torchTestDirectory: URL = {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("speculators-torch-tests-\(getpid())")
  try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  atexit { try? FileManager.default.removeItem(at: torchTestDirectory) }
  return directory
}()

/// Writes `bytes` to a fresh temporary file and maps it.
func mapTempFile(_ bytes: [UInt8], name: String = "archive.pt") throws -> MappedFile {
  let directory = torchTestDirectory.appendingPathComponent(UUID().uuidString)
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  let url = directory.appendingPathComponent(name)
  try Data(bytes).write(to: url)
  return try MappedFile(path: url.path)
}

/// Runs `body` and returns the ``CheckpointError`` it throws, or `nil`.
func caughtError(_ body: () throws -> Void) -> CheckpointError? {
  do {
    try body()
    return nil
  } catch let error as CheckpointError {
    return error
  } catch {
    return nil
  }
}

/// `ex/data/0` of the golden file: bf16 1, 2, 3, 4, 5, 6, little-endian.
let goldenStorageBytes: [UInt8] = [0x80, 0x3F, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40, 0xA0, 0x40, 0xC0, 0x40]

/// Paths of the PyTorch fixtures (`Fixtures/torch`, `Fixtures/hostile/torch`).
enum TorchFixtures {
  /// The package root (the directory holding Package.swift).
  static let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        return url
      }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
  }()

  /// `Fixtures/torch/<name>`.
  static func path(_ name: String) -> String {
    packageRoot.appendingPathComponent("Fixtures/torch").appendingPathComponent(name).path
  }

  /// `Fixtures/hostile/torch/<name>`.
  static func hostilePath(_ name: String) -> String {
    packageRoot.appendingPathComponent("Fixtures/hostile/torch").appendingPathComponent(name).path
  }

  /// One tensor of `Fixtures/torch/expected.json` (written by scripts/make_torch_fixtures.py).
  struct ExpectedTensor: Decodable, Sendable {
    var name: String
    var dtype: String
    var shape: [Int]
    var layout: String
    var sha256: String
  }

  /// `Fixtures/torch/expected.json`: file name → tensors in order.
  static let expected: [String: [ExpectedTensor]] = {
    guard let data = FileManager.default.contents(atPath: path("expected.json")),
      let decoded = try? JSONDecoder().decode([String: [ExpectedTensor]].self, from: data)
    else { return [:] }
    return decoded
  }()
}
