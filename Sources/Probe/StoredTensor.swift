import Inspect

/// One tensor's bytes as stored, read in place: a view into its memory-mapped file for a
/// dense tensor, or a copy gathered once for a strided PyTorch view.
///
/// Nothing is converted here; ``ElementCodec`` widens elements to `Float` block by block when
/// a product needs them, so the weights cost their stored size in memory, not four bytes each.
final class StoredTensor: @unchecked Sendable {
  /// The tensor as the reader described it.
  let info: TensorInfo
  /// Its dense little-endian bytes.
  let bytes: UnsafeRawBufferPointer
  /// What keeps `bytes` alive: the mapping, or the gathered copy.
  private let owner: AnyObject

  private final class Gathered {
    let storage: UnsafeMutableRawBufferPointer
    init(_ bytes: [UInt8]) {
      storage = .allocate(byteCount: max(bytes.count, 1), alignment: 64)
      bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
    }
    deinit { storage.deallocate() }
  }

  /// Reads `info` through `reader`: in place when dense, gathered when strided.
  init(_ info: TensorInfo, reader: TensorReader) throws(ProbeError) {
    self.info = info
    do {
      switch info.layout {
      case .contiguous(_, let length):
        guard length == info.byteCount, let (inPlace, file) = try reader.contiguousBytes(of: info) else {
          throw ProbeError(.unreadable, file: info.file, tensor: info.name, reason: "tensor bytes lie outside the file")
        }
        bytes = inPlace
        owner = file
      case .strided:
        let gathered = Gathered(try reader.bytes(of: info))
        bytes = UnsafeRawBufferPointer(gathered.storage)
        owner = gathered
      }
    } catch let error as ProbeError {
      throw error
    } catch let error as CheckpointError {
      throw ProbeError(error)
    } catch {
      throw ProbeError(.unreadable, file: info.file, tensor: info.name, reason: "\(error)")
    }
  }

  /// The number of elements.
  var count: Int { info.elementCount }

  /// All elements widened to `Float` (for norms, biases and other small tensors).
  func floats() -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      ElementCodec.widen(bytes, as: info.dtype, from: 0, count: count, into: buffer.baseAddress!)
      initialized = count
    }
  }
}
