import CFloatCast

/// Decoding, encoding and casting of tensor elements: the one place that knows how each
/// ``DType``'s little-endian bit patterns map to numbers.
///
/// - Decoding to `Double` (``decode(_:as:into:)``) covers every whole-byte real type: IEEE `F16`,
///   `BF16`, `F32`, `F64`; the 8-bit float formats `F8_E4M3` ("fn": no infinities), `F8_E5M2`,
///   `F8_E4M3FNUZ`, `F8_E5M2FNUZ` and the `F8_E8M0` scale format; signed and unsigned integers of
///   8 to 64 bits; and `BOOL` (zero is `0`, anything else `1`). Every such value is exact in a
///   `Double` except 64-bit integers beyond ±2⁵³, which round to the nearest `Double`.
/// - Decoding to `Float` (``forEachFloat(_:as:start:_:)``, ``widen(_:as:from:count:into:)``)
///   covers the ``floatTypes``.
/// - Casting (``cast(_:from:to:into:)``) writes ``castTypes`` elements, rounding to nearest, ties
///   to even, and reports the first finite element that overflowed to infinity.
///
/// NaN is handled one way everywhere: a NaN stays a NaN with its sign and as many of its top
/// payload bits as the target holds. Widening (`F16`/`BF16` → `F32`, `F32` → `Double`) keeps the
/// bits; narrowing to `F16` or `BF16` sets the quiet bit, as IEEE 754 and the x86 F16C
/// instructions do (and PyTorch's `.to(torch.float16)` on CPU). Infinities stay infinities.
///
/// Sub-byte formats (`F4`, `F6_*`) and complex numbers (`C64`) are not decoded.
package enum ElementCodec {
  /// The float types a cast writes, and reads exactly with overflow detection: the `--dtype`
  /// choices `F32`, `F16`, `BF16`.
  package static let castTypes: Set<DType> = [.F32, .F16, .BF16]

  /// The float types whose elements widen to `Float` exactly with their NaN payloads: the
  /// ``castTypes``, `F64` (rounded to `Float`), `F8_E4M3` and `F8_E5M2`.
  package static let floatTypes: Set<DType> = [.F32, .F16, .BF16, .F64, .F8_E4M3, .F8_E5M2]

  /// Whether elements of `dtype` can be decoded to `Double` (``decode(_:as:into:)``).
  package static func canDecode(_ dtype: DType) -> Bool {
    switch dtype {
    case .F4, .F6_E2M3, .F6_E3M2, .C64: return false
    default: return true
    }
  }

  /// Whether ``cast(_:from:to:into:)`` converts `source` elements to `target` (both ``castTypes``).
  package static func canCast(from source: DType, to target: DType) -> Bool {
    castTypes.contains(source) && castTypes.contains(target)
  }

  // MARK: Decoding

  /// Decodes the elements in `bytes` (dense, little-endian, of type `dtype`) into `output`.
  ///
  /// - Returns: the number of elements decoded: `bytes.count / size`, capped at `output.count`;
  ///   0 when `dtype` cannot be decoded (see ``canDecode(_:)``).
  @discardableResult
  package static func decode(
    _ bytes: UnsafeRawBufferPointer, as dtype: DType, into output: UnsafeMutableBufferPointer<Double>
  ) -> Int {
    guard canDecode(dtype), let size = dtype.bytesPerElement else { return 0 }
    let count = min(bytes.count / size, output.count)
    switch dtype {
    case .F64:
      for i in 0..<count { output[i] = Double(bitPattern: load(bytes, i, UInt64.self)) }
    case .F32:
      for i in 0..<count { output[i] = Double(Float(bitPattern: load(bytes, i, UInt32.self))) }
    case .BF16:
      for i in 0..<count { output[i] = Double(Float(bitPattern: bf16ToF32(load(bytes, i, UInt16.self)))) }
    case .F16:
      for i in 0..<count { output[i] = Double(Float(bitPattern: f16ToF32(load(bytes, i, UInt16.self)))) }
    case .F8_E5M2:
      for i in 0..<count { output[i] = Double(Float(bitPattern: f16ToF32(UInt16(bytes[i]) << 8))) }
    case .F8_E4M3, .F8_E4M3FNUZ, .F8_E5M2FNUZ, .F8_E8M0:
      let table = Minifloat.table(for: dtype)
      for i in 0..<count { output[i] = table[Int(bytes[i])] }
    case .BOOL:
      for i in 0..<count { output[i] = bytes[i] == 0 ? 0 : 1 }
    case .U8:
      for i in 0..<count { output[i] = Double(bytes[i]) }
    case .I8:
      for i in 0..<count { output[i] = Double(Int8(bitPattern: bytes[i])) }
    case .I16: decodeInteger(bytes, Int16.self, count, output)
    case .U16: decodeInteger(bytes, UInt16.self, count, output)
    case .I32: decodeInteger(bytes, Int32.self, count, output)
    case .U32: decodeInteger(bytes, UInt32.self, count, output)
    case .I64: decodeInteger(bytes, Int64.self, count, output)
    case .U64: decodeInteger(bytes, UInt64.self, count, output)
    case .F4, .F6_E2M3, .F6_E3M2, .C64: return 0
    }
    return count
  }

  /// Calls `body` with each element of `bytes` (whole `dtype` elements, one of the
  /// ``floatTypes``) as a `Float`, with its index counted from `start`. Other dtypes call nothing.
  @inline(__always)
  package static func forEachFloat(
    _ bytes: UnsafeRawBufferPointer, as dtype: DType, start: Int, _ body: (Float, Int) -> Void
  ) {
    switch dtype {
    case .F32:
      for i in 0..<(bytes.count / 4) { body(Float(bitPattern: load(bytes, i, UInt32.self)), start + i) }
    case .BF16:
      for i in 0..<(bytes.count / 2) { body(Float(bitPattern: bf16ToF32(load(bytes, i, UInt16.self))), start + i) }
    case .F16:
      for i in 0..<(bytes.count / 2) { body(Float(bitPattern: f16ToF32(load(bytes, i, UInt16.self))), start + i) }
    case .F64:
      for i in 0..<(bytes.count / 8) { body(Float(Double(bitPattern: load(bytes, i, UInt64.self))), start + i) }
    case .F8_E4M3:
      let table = Minifloat.e4m3
      for i in 0..<bytes.count { body(Float(table[Int(bytes[i])]), start + i) }
    case .F8_E5M2:
      for i in 0..<bytes.count { body(Float(bitPattern: f16ToF32(UInt16(bytes[i]) << 8)), start + i) }
    default:
      break
    }
  }

  /// Widens `count` elements of `bytes` (dtype `dtype`, one of the ``castTypes``), starting at
  /// element `start`, into `output`: a block of weights right before the arithmetic that uses it.
  /// Any other dtype fills `output` with NaN.
  @inline(__always)
  package static func widen(
    _ bytes: UnsafeRawBufferPointer, as dtype: DType, from start: Int, count: Int,
    into output: UnsafeMutablePointer<Float>
  ) {
    guard let base = bytes.baseAddress else { return }
    switch dtype {
    case .F32:
      UnsafeMutableRawPointer(output).copyMemory(from: base + start * 4, byteCount: count * 4)
    case .BF16 where Int(bitPattern: base) & 1 == 0:
      let source = (base + start * 2).assumingMemoryBound(to: UInt16.self)
      for i in 0..<count { output[i] = Float(bitPattern: bf16ToF32(UInt16(littleEndian: source[i]))) }
    case .F16 where Int(bitPattern: base) & 1 == 0:
      let source = (base + start * 2).assumingMemoryBound(to: UInt16.self)
      for i in 0..<count { output[i] = Float(bitPattern: f16ToF32(UInt16(littleEndian: source[i]))) }
    case .BF16, .F16:
      // An odd address (possible in a hand-made file): unaligned loads.
      let rebased = UnsafeRawBufferPointer(start: base + start * 2, count: count * 2)
      forEachFloat(rebased, as: dtype, start: 0) { value, index in output[index] = value }
    default:
      output.update(repeating: .nan, count: count)
    }
  }

  @inline(__always)
  static func load<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, _ index: Int, _ type: T.Type) -> T {
    T(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* MemoryLayout<T>.size, as: T.self))
  }

  private static func decodeInteger<T: FixedWidthInteger>(
    _ bytes: UnsafeRawBufferPointer, _ type: T.Type, _ count: Int, _ output: UnsafeMutableBufferPointer<Double>
  ) {
    for i in 0..<count { output[i] = Double(load(bytes, i, T.self)) }
  }

  // MARK: Element bits

  /// `F16` bits → `F32` bits, exact (subnormals normalised; NaN payload and signalling bit kept).
  @inline(__always)
  package static func f16ToF32(_ half: UInt16) -> UInt32 {
    let sign = UInt32(half & 0x8000) << 16
    let magnitude = UInt32(half & 0x7FFF) << 13
    let exponent = magnitude & 0x0F80_0000
    if exponent == 0x0F80_0000 { return sign | magnitude | 0x7F80_0000 }  // inf or NaN
    if exponent == 0 {
      // Zero or subnormal: m · 2⁻²⁴, exact in Float (the subtraction renormalises).
      let scaled = Float(bitPattern: magnitude &+ (113 << 23)) - Float(bitPattern: 113 << 23)
      return sign | scaled.bitPattern
    }
    return sign | (magnitude &+ ((127 - 15) << 23))
  }

  /// `BF16` bits → `F32` bits (exact).
  @inline(__always)
  package static func bf16ToF32(_ brain: UInt16) -> UInt32 {
    UInt32(brain) << 16
  }

  /// `F32` bits → `F16` bits, round to nearest even; `overflow` when a finite value became ±inf.
  /// A NaN stays a quiet NaN with its sign and top 9 payload bits.
  @inline(__always)
  package static func f32ToF16(_ bits: UInt32) -> (UInt16, overflow: Bool) {
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x007F_FFFF
    if exponent == 0xFF {
      return (sign | 0x7C00 | (mantissa != 0 ? 0x0200 | UInt16(mantissa >> 13) : 0), false)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F {
      return (sign | 0x7C00, true)
    }
    if halfExponent <= 0 {
      // Subnormal or zero in half precision.
      let shift = 14 - halfExponent
      if shift > 24 { return (sign, false) }
      let full = mantissa | 0x0080_0000
      var result = full >> UInt32(shift)
      let remainder = full & ((1 << UInt32(shift)) - 1)
      let halfway = UInt32(1) << UInt32(shift - 1)
      if remainder > halfway || (remainder == halfway && result & 1 == 1) { result += 1 }
      return (sign | UInt16(result), false)
    }
    var result = (UInt32(halfExponent) << 10) | (mantissa >> 13)
    let remainder = mantissa & 0x1FFF
    if remainder > 0x1000 || (remainder == 0x1000 && result & 1 == 1) { result += 1 }  // a carry rounds up a binade
    if result >= 0x7C00 { return (sign | 0x7C00, true) }
    return (sign | UInt16(result), false)
  }

  /// `F32` bits → `BF16` bits, round to nearest even; `overflow` when a finite value became ±inf.
  /// A NaN stays a quiet NaN with its sign and top 6 payload bits.
  @inline(__always)
  package static func f32ToBF16(_ bits: UInt32) -> (UInt16, overflow: Bool) {
    if bits & 0x7F80_0000 == 0x7F80_0000 {
      let isNaN = bits & 0x007F_FFFF != 0
      return (UInt16(bits >> 16) | (isNaN ? 0x0040 : 0), false)
    }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    let result = UInt16(rounded >> 16)
    return (result, result & 0x7F80 == 0x7F80)
  }
}
