import Inspect

/// Decodes the little-endian floating-point dtypes content checks understand into `Float`.
enum FloatDecoding {
  /// Whether `dtype` can be decoded.
  static func supports(_ dtype: DType) -> Bool {
    switch dtype {
    case .F32, .F16, .BF16, .F64, .F8_E4M3, .F8_E5M2: return true
    default: return false
    }
  }

  /// Calls `body` with each element of `bytes` (a whole number of `dtype` elements) as a Float,
  /// with its index counted from `start`.
  @inline(__always)
  static func forEach(
    _ bytes: UnsafeRawBufferPointer, dtype: DType, start: Int, _ body: (Float, Int) -> Void
  ) {
    switch dtype {
    case .F32:
      for i in 0..<(bytes.count / 4) {
        let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
        body(Float(bitPattern: bits), start + i)
      }
    case .BF16:
      for i in 0..<(bytes.count / 2) {
        let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
        body(Float(bitPattern: UInt32(bits) << 16), start + i)
      }
    case .F16:
      for i in 0..<(bytes.count / 2) {
        let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
        body(half(bits), start + i)
      }
    case .F64:
      for i in 0..<(bytes.count / 8) {
        let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        body(Float(Double(bitPattern: bits)), start + i)
      }
    case .F8_E4M3:
      for i in 0..<bytes.count { body(e4m3(bytes[i]), start + i) }
    case .F8_E5M2:
      for i in 0..<bytes.count { body(half(UInt16(bytes[i]) << 8), start + i) }
    default:
      break
    }
  }

  /// IEEE binary16 to Float.
  static func half(_ bits: UInt16) -> Float {
    let sign = UInt32(bits >> 15) << 31
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0x1F {
      return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {
      let magnitude = Float(mantissa) * 0x1p-24
      return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
  }

  /// OCP float8 e4m3fn (bias 7, no infinities, S.1111.111 is NaN) to Float.
  static func e4m3(_ byte: UInt8) -> Float {
    let negative = byte & 0x80 != 0
    let exponent = Int((byte >> 3) & 0x0F)
    let mantissa = Float(byte & 0x07)
    if exponent == 0x0F && byte & 0x07 == 0x07 { return .nan }
    let magnitude: Float =
      exponent == 0
      ? mantissa / 8 * 0x1p-6
      : (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
    return negative ? -magnitude : magnitude
  }
}
