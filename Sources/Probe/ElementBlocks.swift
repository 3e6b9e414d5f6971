import Inspect

/// Widens stored weight elements (F32, F16, BF16) to `Float`, a block at a time.
///
/// The probe multiplies in single precision: each block of a weight matrix is widened into a
/// cache-sized scratch buffer right before the BLAS call that uses it.
enum ElementBlocks {
  /// The element types the probe reads weights in.
  static let supported: Set<DType> = [.F32, .F16, .BF16]

  /// Widens `count` elements of `bytes` (dtype `dtype`), starting at element `start`, into
  /// `output`.
  @inline(__always)
  static func widen(
    _ bytes: UnsafeRawBufferPointer, dtype: DType, from start: Int, count: Int,
    into output: UnsafeMutablePointer<Float>
  ) {
    guard let base = bytes.baseAddress else { return }
    if dtype != .F32, Int(bitPattern: base) & 1 != 0 {
      // An odd address (possible in a hand-made file): element by element, unaligned.
      for i in 0..<count {
        let bits = bytes.loadUnaligned(fromByteOffset: (start + i) * 2, as: UInt16.self)
        output[i] = dtype == .BF16 ? Float(bitPattern: UInt32(bits) << 16) : Float(Float16(bitPattern: bits))
      }
      return
    }
    switch dtype {
    case .F32:
      UnsafeMutableRawPointer(output).copyMemory(from: base + start * 4, byteCount: count * 4)
    case .BF16:
      let source = (base + start * 2).assumingMemoryBound(to: UInt16.self)
      for i in 0..<count { output[i] = Float(bitPattern: UInt32(source[i]) << 16) }
    case .F16:
      let source = (base + start * 2).assumingMemoryBound(to: Float16.self)
      for i in 0..<count { output[i] = Float(source[i]) }
    default:
      output.update(repeating: .nan, count: count)
    }
  }
}
