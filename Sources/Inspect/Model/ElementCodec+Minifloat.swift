extension ElementCodec {
  /// The value of every bit pattern of the 8-bit float formats, as tables.
  enum Minifloat {
    /// How a format spends its top exponent and its negative zero.
    enum SpecialValues {
      /// IEEE style: all-ones exponent is infinity (zero mantissa) or NaN.
      case ieee
      /// "fn": no infinities; only all-ones exponent and mantissa is NaN.
      case finite
      /// "fnuz": no infinities, no negative zero; the negative-zero pattern is the only NaN.
      case finiteUnsignedZero
    }

    /// The table of `dtype`, one of the 8-bit float formats (`F8_E8M0` for any other).
    static func table(for dtype: DType) -> [Double] {
      switch dtype {
      case .F8_E4M3: return e4m3
      case .F8_E5M2: return e5m2
      case .F8_E4M3FNUZ: return e4m3fnuz
      case .F8_E5M2FNUZ: return e5m2fnuz
      default: return e8m0
      }
    }

    /// The value of every bit pattern of an 8-bit sign/exponent/mantissa float.
    static func table(exponentBits: Int, mantissaBits: Int, bias: Int, special: SpecialValues) -> [Double] {
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

    static let e4m3 = table(exponentBits: 4, mantissaBits: 3, bias: 7, special: .finite)
    static let e5m2 = table(exponentBits: 5, mantissaBits: 2, bias: 15, special: .ieee)
    static let e4m3fnuz = table(exponentBits: 4, mantissaBits: 3, bias: 8, special: .finiteUnsignedZero)
    static let e5m2fnuz = table(exponentBits: 5, mantissaBits: 2, bias: 16, special: .finiteUnsignedZero)
    /// E8M0: an unsigned power of two, 2^(e − 127); 0xFF is NaN.
    static let e8m0: [Double] = (0..<256).map { $0 == 0xFF ? .nan : pow2($0 - 127) }
  }
}
