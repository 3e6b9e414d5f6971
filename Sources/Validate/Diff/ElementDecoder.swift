import Inspect

/// Decodes a tensor's dense little-endian bytes into `Double` values, one per element.
///
/// Every whole-byte real type is supported: IEEE `F16`, `BF16`, `F32`, `F64`; the 8-bit float
/// formats `F8_E4M3` (the "fn" variant: no infinities), `F8_E5M2`, `F8_E4M3FNUZ`, `F8_E5M2FNUZ`
/// and the `F8_E8M0` scale format; signed and unsigned integers of 8 to 64 bits; and `BOOL`
/// (zero is `0`, anything else `1`). Every such value is exactly representable as a `Double`
/// except 64-bit integers beyond ±2⁵³, which round to the nearest `Double`.
///
/// Sub-byte formats (`F4`, `F6_*`) and complex numbers (`C64`) are not decoded; tensors of those
/// types are compared by digest only.
package enum ElementDecoder {
  /// Whether elements of `dtype` can be decoded.
  package static func canDecode(_ dtype: DType) -> Bool {
    switch dtype {
    case .F4, .F6_E2M3, .F6_E3M2, .C64: return false
    default: return true
    }
  }

  /// Decodes the elements in `bytes` (dense, little-endian, of type `dtype`) into `output`.
  ///
  /// - Returns: the number of elements decoded: `bytes.count / size`, capped at `output.count`.
  ///   Returns 0 when `dtype` cannot be decoded (see ``canDecode(_:)``).
  @discardableResult
  package static func decode(
    _ bytes: UnsafeRawBufferPointer, as dtype: DType, into output: UnsafeMutableBufferPointer<Double>
  ) -> Int {
    guard canDecode(dtype), let size = dtype.bytesPerElement else { return 0 }
    let count = min(bytes.count / size, output.count)
    switch dtype {
    case .F64:
      for i in 0..<count {
        output[i] = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
      }
    case .F32:
      for i in 0..<count {
        output[i] = Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))))
      }
    case .BF16:
      for i in 0..<count {
        let bits = UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
        output[i] = Double(Float(bitPattern: bits << 16))
      }
    case .F16:
      for i in 0..<count {
        output[i] = halfToDouble(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
      }
    case .F8_E4M3, .F8_E5M2, .F8_E4M3FNUZ, .F8_E5M2FNUZ, .F8_E8M0:
      let table = Self.table(for: dtype)
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

  /// The value of an IEEE 754 binary16 bit pattern, NaN payloads kept.
  package static func halfToDouble(_ bits: UInt16) -> Double {
    let sign = UInt32(bits >> 15) << 31
    let exponent = UInt32((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
      // Zero or subnormal: mantissa × 2⁻²⁴, exact in Double.
      let magnitude = Double(mantissa) * 0x1p-24
      return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1F {
      return Double(Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13))
    }
    return Double(Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13))
  }

  private static func decodeInteger<T: FixedWidthInteger>(
    _ bytes: UnsafeRawBufferPointer, _ type: T.Type, _ count: Int, _ output: UnsafeMutableBufferPointer<Double>
  ) {
    let size = MemoryLayout<T>.size
    for i in 0..<count {
      output[i] = Double(T(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* size, as: T.self)))
    }
  }

  private static func table(for dtype: DType) -> [Double] {
    switch dtype {
    case .F8_E4M3: return e4m3Table
    case .F8_E5M2: return e5m2Table
    case .F8_E4M3FNUZ: return e4m3fnuzTable
    case .F8_E5M2FNUZ: return e5m2fnuzTable
    default: return e8m0Table
    }
  }

  /// How a minifloat format spends its top exponent and its negative zero.
  enum SpecialValues {
    /// IEEE style: all-ones exponent is infinity (zero mantissa) or NaN.
    case ieee
    /// "fn": no infinities; only all-ones exponent and mantissa is NaN.
    case finite
    /// "fnuz": no infinities, no negative zero; the negative-zero pattern is the only NaN.
    case finiteUnsignedZero
  }

  /// The value of every bit pattern of an 8-bit sign/exponent/mantissa float.
  static func minifloatTable(exponentBits: Int, mantissaBits: Int, bias: Int, special: SpecialValues) -> [Double] {
    (0..<256).map { pattern in
      let negative = pattern & 0x80 != 0
      let exponent = (pattern >> mantissaBits) & ((1 << exponentBits) - 1)
      let mantissa = pattern & ((1 << mantissaBits) - 1)
      let allOnes = (1 << exponentBits) - 1
      switch special {
      case .ieee where exponent == allOnes:
        return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan
      case .finite where exponent == allOnes && mantissa == (1 << mantissaBits) - 1:
        return .nan
      case .finiteUnsignedZero where pattern == 0x80:
        return .nan
      default:
        break
      }
      let magnitude: Double
      if exponent == 0 {
        magnitude = Double(mantissa) * pow2(1 - bias - mantissaBits)
      } else {
        magnitude = Double((1 << mantissaBits) + mantissa) * pow2(exponent - bias - mantissaBits)
      }
      return negative ? -magnitude : magnitude
    }
  }

  private static func pow2(_ exponent: Int) -> Double {
    Double(sign: .plus, exponent: exponent, significand: 1)
  }

  private static let e4m3Table = minifloatTable(exponentBits: 4, mantissaBits: 3, bias: 7, special: .finite)
  private static let e5m2Table = minifloatTable(exponentBits: 5, mantissaBits: 2, bias: 15, special: .ieee)
  private static let e4m3fnuzTable = minifloatTable(
    exponentBits: 4, mantissaBits: 3, bias: 8, special: .finiteUnsignedZero)
  private static let e5m2fnuzTable = minifloatTable(
    exponentBits: 5, mantissaBits: 2, bias: 16, special: .finiteUnsignedZero)
  /// E8M0: an unsigned power of two, 2^(e − 127); 0xFF is NaN.
  private static let e8m0Table: [Double] = (0..<256).map { $0 == 0xFF ? .nan : pow2($0 - 127) }
}
