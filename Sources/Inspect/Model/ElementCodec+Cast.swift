import CFloatCast

extension ElementCodec {
  /// The result of a chunk cast.
  package struct CastOutcome: Sendable, Hashable {
    /// Index (within the chunk) of the first finite element that overflowed to infinity.
    package var firstOverflow: Int?
    /// That element's value, widened to `Float`.
    package var overflowValue: Float?
  }

  /// Casts whole elements of `input` (dtype `source`) into `output` (dtype `target`, one of the
  /// ``castTypes``), as PyTorch's `tensor.to(target)` on CPU does: round to nearest, ties to
  /// even; NaN as the type's documentation says. `source` is one of the ``castTypes``, or any of
  /// the ``floatTypes`` (widened to `Float` first); other pairs write nothing.
  ///
  /// Converts `min(input.count / size(source), output.count / size(target))` elements (callers
  /// size `output` for all of them). Reads and writes are unaligned-safe and little-endian. The
  /// narrowing casts to `F16` run on the CPU's F16C instructions where it has them (checked
  /// once), bit for bit what the element loop gives.
  @discardableResult
  package static func cast(
    _ input: UnsafeRawBufferPointer, from source: DType, to target: DType,
    into output: UnsafeMutableRawBufferPointer
  ) -> CastOutcome {
    guard let (count, inSize, outSize) = castSizes(input, source, target, output) else { return CastOutcome() }
    guard vectorised, count >= 8, let inBase = input.baseAddress, let outBase = output.baseAddress else {
      return castPortably(input, from: source, to: target, into: output)
    }
    // The CPU converts whole blocks of 8 elements; the portable loop does the rest.
    let bulk = count / 8 * 8
    var overflow = -1
    switch (source, target) {
    case (.BF16, .F16): overflow = speculators_bf16_to_f16(inBase, outBase, bulk)
    case (.F32, .F16): overflow = speculators_f32_to_f16(inBase, outBase, bulk)
    default: return castPortably(input, from: source, to: target, into: output)
    }
    var outcome = castPortably(
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
  /// narrowing casts to F16 use them: the CPU's F16 → F32 would quiet signalling NaNs, which
  /// widening keeps.
  static let vectorised = speculators_f16c_available() != 0

  /// ``cast(_:from:to:into:)`` with the portable element loop only, never the CPU's vector
  /// instructions: the reference the vector path must match bit for bit.
  @discardableResult
  package static func castPortably(
    _ input: UnsafeRawBufferPointer, from source: DType, to target: DType,
    into output: UnsafeMutableRawBufferPointer
  ) -> CastOutcome {
    guard let (count, _, _) = castSizes(input, source, target, output) else { return CastOutcome() }
    // One specialised loop per (source, target) pair: the element loop then has no dtype
    // switches in it and the compiler can keep it tight.
    switch source {
    case .F32: return narrow(count, input, into: output, to: target) { load($0, $1, UInt32.self) }
    case .F16: return narrow(count, input, into: output, to: target) { f16ToF32(load($0, $1, UInt16.self)) }
    case .BF16: return narrow(count, input, into: output, to: target) { bf16ToF32(load($0, $1, UInt16.self)) }
    case .F64:
      var outcome = narrow(count, input, into: output, to: target) { widenedBits($0, .F64, $1) }
      // Rounding to Float first may overflow before the narrowing does.
      for index in 0..<min(count, outcome.firstOverflow ?? count) {
        let value = Double(bitPattern: load(input, index, UInt64.self))
        if value.isFinite && Float(value).isInfinite {
          outcome.firstOverflow = index
          outcome.overflowValue = Float(value)
          break
        }
      }
      return outcome
    default: return narrow(count, input, into: output, to: target) { widenedBits($0, source, $1) }
    }
  }

  /// The elements a cast converts and the two element sizes; `nil` for a pair it does not cast.
  private static func castSizes(
    _ input: UnsafeRawBufferPointer, _ source: DType, _ target: DType, _ output: UnsafeMutableRawBufferPointer
  ) -> (count: Int, inSize: Int, outSize: Int)? {
    guard let inSize = source.bytesPerElement, let outSize = target.bytesPerElement,
      floatTypes.contains(source), castTypes.contains(target)
    else { return nil }
    return (min(input.count / inSize, output.count / outSize), inSize, outSize)
  }

  /// Element `index` of `input` (dtype `source`, one of the ``floatTypes``) as F32 bits.
  private static func widenedBits(_ input: UnsafeRawBufferPointer, _ source: DType, _ index: Int) -> UInt32 {
    switch source {
    case .F32: load(input, index, UInt32.self)
    case .F16: f16ToF32(load(input, index, UInt16.self))
    case .BF16: bf16ToF32(load(input, index, UInt16.self))
    case .F64: Float(Double(bitPattern: load(input, index, UInt64.self))).bitPattern
    case .F8_E5M2: f16ToF32(UInt16(input[index]) << 8)
    default: Float(Minifloat.table(for: source)[Int(input[index])]).bitPattern
    }
  }

  /// Writes `count` elements, each widened to F32 bits by `load`, as `target`.
  @inline(__always)
  private static func narrow(
    _ count: Int, _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
    to target: DType, load: (UnsafeRawBufferPointer, Int) -> UInt32
  ) -> CastOutcome {
    switch target {
    case .F32:
      for index in 0..<count {
        output.storeBytes(of: load(input, index).littleEndian, toByteOffset: index * 4, as: UInt32.self)
      }
      return CastOutcome()
    case .F16:
      return narrowTo16Bits(count, input, into: output, load: load, convert: f32ToF16)
    default:
      return narrowTo16Bits(count, input, into: output, load: load, convert: f32ToBF16)
    }
  }

  /// Writes `count` elements, each widened to F32 bits by `load`, as the 16-bit values `convert`
  /// makes of them, noting the first one `convert` says overflows.
  @inline(__always)
  private static func narrowTo16Bits(
    _ count: Int, _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
    load: (UnsafeRawBufferPointer, Int) -> UInt32, convert: (UInt32) -> (UInt16, overflow: Bool)
  ) -> CastOutcome {
    var outcome = CastOutcome()
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
}
