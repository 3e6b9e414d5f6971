import Foundation
import Testing

@testable import Inspect

/// SplitMix64: a tiny seedable generator so mutation tests are the same on every run.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Mutates `bytes` in one of a few ways real corruption and crafted files take.
func mutateBytes(_ bytes: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
  var out = bytes
  guard !out.isEmpty else { return out }
  switch Int.random(in: 0..<5, using: &generator) {
  case 0:
    for _ in 0..<Int.random(in: 1...4, using: &generator) {
      out[Int.random(in: 0..<out.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
    }
  case 1:
    out.removeLast(Int.random(in: 1...out.count, using: &generator))
  case 2:
    // A 32-bit field set to a boundary value.
    let at = Int.random(in: 0..<max(1, out.count - 4), using: &generator)
    let boundaries: [UInt32] = [.max, 0x7FFF_FFFF, 0, 0xFFFF_0000, 1]
    let value = boundaries[Int.random(in: 0..<boundaries.count, using: &generator)]
    for index in 0..<min(4, out.count - at) {
      out[at + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
    }
  case 3:
    let at = Int.random(in: 0..<out.count, using: &generator)
    out.insert(contentsOf: out[at..<min(out.count, at + 8)], at: at)
  default:
    let at = Int.random(in: 0..<out.count, using: &generator)
    out.remove(at: at)
  }
  return out
}

/// Corrupted inputs must give a value or a ``CheckpointError``, never a crash or another error.
@Suite struct TorchZipFuzzTests {
  @Test(arguments: ["golden-ex.pt", "module.pt", "views.pt"])
  func corruptedArchivesNeverCrash(fixture: String) throws {
    let original = Array(try Data(contentsOf: URL(fileURLWithPath: TorchFixtures.path(fixture))))
    var generator = SplitMix64(state: 0x5EED_0000 &+ UInt64(fixture.utf8.count))
    let reader = TensorReader()
    var refused = 0
    for _ in 0..<300 {
      let bytes = mutateBytes(original, using: &generator)
      let file = try mapTempFile(bytes)
      defer { try? FileManager.default.removeItem(atPath: file.path) }
      let tensors: [TensorInfo]
      do {
        tensors = try TorchZipReader.readTensors(from: file)
      } catch {
        refused += 1
        continue
      }
      // Whatever the reader accepts, the bytes can be read.
      for tensor in tensors {
        #expect(try reader.bytes(of: tensor).count == tensor.byteCount)
      }
    }
    #expect(refused > 200, "most corruptions are caught (CRC, structure)")
  }

  @Test(arguments: ["module.pt", "views.pt", "fp8.pt", "parameter.pt"])
  func corruptedPicklesNeverCrash(fixture: String) throws {
    let archive = try ZipArchive(try MappedFile(path: TorchFixtures.path(fixture)))
    let pickleEntry = try #require(archive.entries.first { $0.name.hasSuffix("/data.pkl") })
    let original = Array(archive.data(of: pickleEntry))
    let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
    var records: [String: PickleStorageRecord] = [:]
    for entry in archive.entries where entry.name.hasPrefix(prefix + "data/") {
      let key = String(entry.name.dropFirst(prefix.count + 5))
      records[key] = PickleStorageRecord(entryName: entry.name, offset: entry.dataOffset, length: entry.size)
    }
    let context = PickleMachine.Context(file: fixture, storageRecords: records)
    var generator = SplitMix64(state: 0xF00D &+ UInt64(original.count))
    var accepted = 0
    for _ in 0..<1_000 {
      let bytes = mutateBytes(original, using: &generator)
      do {
        let root = try bytes.withUnsafeBytes { buffer throws(CheckpointError) in
          try PickleMachine.run(buffer, context: context)
        }
        for (name, tensor) in try TorchZipReader.namedTensors(in: root, file: fixture) {
          let info = try TorchZipReader.tensorInfo(name: name, tensor: tensor, bigEndian: false, file: fixture)
          #expect(checkedByteCount(shape: info.shape, dtype: info.dtype) == info.byteCount)
        }
        accepted += 1
      } catch {
        #expect(error is CheckpointError)
      }
    }
    #expect(accepted < 1_000)
  }
}
