import CFloatCast
import Inspect

/// Element conversions between `F32`, `F16` and `BF16`, bit-exact and portable.
///
/// Narrowing rounds to nearest, ties to even (what PyTorch's `.to(dtype)` does on CPU). A finite
/// value too large for the target becomes infinity in IEEE arithmetic; the converter treats that
/// as an error, so ``convert(_:from:to:into:)`` reports the first element where it happens.
/// NaNs stay NaNs (quiet, sign kept), infinities stay infinities. Widening is exact.
package enum FloatCast {
  /// The float dtypes `--dtype` may ask for, and that a cast may read.
  package static let castableTypes: Set<DType> = [.F32, .F16, .BF16]

  /// Whether elements of `source` can be cast to `target`.
  package static func canCast(from source: DType, to target: DType) -> Bool {
    castableTypes.contains(source) && castableTypes.contains(target)
  }

  /// The result of a chunk conversion.
  package struct Outcome: Sendable, Hashable {
    /// Index (within the chunk) of the first finite element that overflowed to infinity.
    package var firstOverflow: Int?
    /// That element's value, widened to `Float`.
    package var overflowValue: Float?
  }

  /// Converts whole elements of `input` (dtype `source`) into `output` (dtype `target`).
  ///
  /// Converts `min(input.count / size(source), output.count / size(target))` elements (callers
  /// size `output` for all of them). Reads and writes are unaligned-safe and little-endian.
  @discardableResult
  package static func convert(
    _ input: UnsafeRawBufferPointer, from source: DType, to target: DType,
    into output: UnsafeMutableRawBufferPointer
  ) -> Outcome {
    guard let inSize = source.bytesPerElement, let outSize = target.bytesPerElement,
      canCast(from: source, to: target)
    else { return Outcome() }
    let count = min(input.count / inSize, output.count / outSize)
    guard vectorised, count >= 8, let inBase = input.baseAddress, let outBase = output.baseAddress else {
      return convertPortably(input, from: source, to: target, into: output)
    }
    // The CPU converts whole blocks of 8 elements; the portable loop does the rest.
    let bulk = count / 8 * 8
    var overflow = -1
    switch (source, target) {
    case (.BF16, .F16): overflow = speculators_bf16_to_f16(inBase, outBase, bulk)
    case (.F32, .F16): overflow = speculators_f32_to_f16(inBase, outBase, bulk)
    default: return convertPortably(input, from: source, to: target, into: output)
    }
    var outcome = convertPortably(
      UnsafeRawBufferPointer(start: inBase + bulk * inSize, count: (count - bulk) * inSize),
      from: source, to: target,
      into: UnsafeMutableRawBufferPointer(start: outBase + bulk * outSize, count: (count - bulk) * outSize))
    if overflow >= 0 {
      outcome.firstOverflow = overflow
      outcome.overflowValue = Float(bitPattern: widenedBits(input, source, overflow))
    } else if let index = outcome.firstOverflow {
      outcome.firstOverflow = bulk + index
    }
    return outcome
  }

  /// Whether this CPU has the vector conversions (x86-64 AVX2 + F16C), checked once. Only the
  /// narrowing casts to F16 use them: the CPU's F16 → F32 quiets signalling NaNs, PyTorch does not.
  static let vectorised = speculators_f16c_available() != 0

  /// ``convert(_:from:to:into:)`` with the portable element loop only, never the CPU's vector
  /// instructions: the reference the vector path must match bit for bit.
  @discardableResult
  static func convertPortably(
    _ input: UnsafeRawBufferPointer, from source: DType, to target: DType,
    into output: UnsafeMutableRawBufferPointer
  ) -> Outcome {
    guard let inSize = source.bytesPerElement, let outSize = target.bytesPerElement,
      canCast(from: source, to: target)
    else { return Outcome() }
    let count = min(input.count / inSize, output.count / outSize)
    // One specialised loop per (source, target) pair: the element loop then has no dtype
    // switches in it and the compiler can keep it tight.
    switch source {
    case .F32:
      return narrow(count, input, into: output, to: target) {
        UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1 * 4, as: UInt32.self))
      }
    case .F16:
      return narrow(count, input, into: output, to: target) {
        f16ToF32(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: $1 * 2, as: UInt16.self)))
      }
    default:
      return narrow(count, input, into: output, to: target) {
        bf16ToF32(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: $1 * 2, as: UInt16.self)))
      }
    }
  }

  /// Element `index` of `input` (dtype `source`, one of the castable types) as F32 bits.
  private static func widenedBits(_ input: UnsafeRawBufferPointer, _ source: DType, _ index: Int) -> UInt32 {
    switch source {
    case .F32: UInt32(littleEndian: input.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
    case .F16: f16ToF32(UInt16(littleEndian: input.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
    default: bf16ToF32(UInt16(littleEndian: input.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
    }
  }

  /// Writes `count` elements, each widened to F32 bits by `load`, as `target`.
  @inline(__always)
  private static func narrow(
    _ count: Int, _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
    to target: DType, load: (UnsafeRawBufferPointer, Int) -> UInt32
  ) -> Outcome {
    var outcome = Outcome()
    switch target {
    case .F32:
      for index in 0..<count {
        output.storeBytes(of: load(input, index).littleEndian, toByteOffset: index * 4, as: UInt32.self)
      }
    case .F16:
      outcome = narrowTo16Bits(count, input, into: output, load: load, convert: f32ToF16)
    default:
      outcome = narrowTo16Bits(count, input, into: output, load: load, convert: f32ToBF16)
    }
    return outcome
  }

  /// Writes `count` elements, each widened to F32 bits by `load`, as the 16-bit values `convert`
  /// makes of them, noting the first one `convert` says overflows.
  @inline(__always)
  private static func narrowTo16Bits(
    _ count: Int, _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
    load: (UnsafeRawBufferPointer, Int) -> UInt32, convert: (UInt32) -> (UInt16, overflow: Bool)
  ) -> Outcome {
    var outcome = Outcome()
    var firstOverflow = Int.max
    for index in 0..<count {
      let (bits, overflow) = convert(load(input, index))
      if overflow && index < firstOverflow { firstOverflow = index }
      output.storeBytes(of: bits.littleEndian, toByteOffset: index * 2, as: UInt16.self)
    }
    if firstOverflow != Int.max {
      outcome.firstOverflow = firstOverflow
      outcome.overflowValue = Float(bitPattern: load(input, firstOverflow))
    }
    return outcome
  }

  /// `F16` bits → `F32` bits (exact).
  @inline(__always)
  package static func f16ToF32(_ half: UInt16) -> UInt32 {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = UInt32(half >> 10) & 0x1F
    var mantissa = UInt32(half & 0x03FF)
    if exponent == 0x1F {
      return sign | 0x7F80_0000 | (mantissa << 13)
    }
    if exponent == 0 {
      if mantissa == 0 { return sign }
      // Subnormal: normalise.
      var shifted: UInt32 = 0
      while mantissa & 0x0400 == 0 {
        mantissa <<= 1
        shifted += 1
      }
      mantissa &= 0x03FF
      return sign | ((127 - 15 + 1 - shifted) << 23) | (mantissa << 13)
    }
    return sign | ((exponent + 127 - 15) << 23) | (mantissa << 13)
  }

  /// `BF16` bits → `F32` bits (exact).
  @inline(__always)
  package static func bf16ToF32(_ brain: UInt16) -> UInt32 {
    UInt32(brain) << 16
  }

  /// `F32` bits → `F16` bits, round to nearest even; `overflow` when a finite value became ±inf.
  @inline(__always)
  package static func f32ToF16(_ bits: UInt32) -> (UInt16, overflow: Bool) {
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x007F_FFFF
    if exponent == 0xFF {
      // Inf stays inf; NaN stays a quiet NaN with its top payload bits.
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
    if remainder > 0x1000 || (remainder == 0x1000 && result & 1 == 1) { result += 1 }
    if result >= 0x7C00 { return (sign | 0x7C00, true) }
    return (sign | UInt16(result), false)
  }

  /// `F32` bits → `BF16` bits, round to nearest even; `overflow` when a finite value became ±inf.
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
