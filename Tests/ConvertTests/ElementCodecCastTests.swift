import Inspect
import Testing

@testable import Convert

@Suite("ElementCodec casts")
struct ElementCodecCastTests {
  @Test("every finite F16 value survives F16 → F32 → F16")
  func halfRoundTrip() {
    for raw in 0...UInt16.max {
      let exponent = (raw >> 10) & 0x1F
      let wide = ElementCodec.f16ToF32(raw)
      let (back, overflow) = ElementCodec.f32ToF16(wide)
      if exponent == 0x1F && raw & 0x3FF != 0 {
        #expect(Float(bitPattern: wide).isNaN)
      } else {
        #expect(back == raw && !overflow, "F16 \(raw)")
      }
    }
  }

  @Test("F16 → F32 is exact for every pattern and keeps NaN payloads and their signalling bit")
  func halfWidening() {
    for raw in 0...UInt16.max {
      let wide = ElementCodec.f16ToF32(raw)
      if raw & 0x7C00 == 0x7C00 && raw & 0x3FF != 0 {
        #expect(wide == UInt32(raw & 0x8000) << 16 | 0x7F80_0000 | UInt32(raw & 0x3FF) << 13, "F16 \(raw)")
      } else {
        #expect(Float(bitPattern: wide) == Float(Float16(bitPattern: raw)), "F16 \(raw)")
        #expect(Float(bitPattern: wide).sign == Float16(bitPattern: raw).sign, "F16 \(raw)")
      }
    }
  }

  #if arch(x86_64) || arch(arm64)
    @Test("F32 → F16 matches the platform's round-to-nearest-even conversion")
    func halfMatchesPlatform() {
      var state: UInt64 = 42
      var checked = 0
      for _ in 0..<200_000 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let bits = UInt32(truncatingIfNeeded: state >> 17)
        let value = Float(bitPattern: bits)
        guard !value.isNaN else { continue }
        let expected = Float16(value)
        let (ours, overflow) = ElementCodec.f32ToF16(bits)
        #expect(ours == expected.bitPattern, "value \(value)")
        #expect(overflow == (expected.isInfinite && value.isFinite))
        checked += 1
      }
      #expect(checked > 100_000)
    }
  #endif

  @Test(
    "F32 → BF16 rounds to nearest, ties to even",
    arguments: [
      (UInt32(0x3F80_0000), UInt16(0x3F80)),  // 1.0
      (UInt32(0x3F80_8000), UInt16(0x3F80)),  // tie, even stays
      (UInt32(0x3F81_8000), UInt16(0x3F82)),  // tie, odd rounds up
      (UInt32(0x3F80_8001), UInt16(0x3F81)),  // above half rounds up
      (UInt32(0x3F80_7FFF), UInt16(0x3F80)),  // below half rounds down
      (UInt32(0xBF80_0000), UInt16(0xBF80)),  // -1.0
      (UInt32(0x7F80_0000), UInt16(0x7F80)),  // +inf stays inf
    ])
  func brainRounding(input: UInt32, expected: UInt16) {
    let (result, overflow) = ElementCodec.f32ToBF16(input)
    #expect(result == expected)
    #expect(!overflow)
  }

  @Test("a finite value too large for the target is reported as overflow")
  func overflow() {
    #expect(ElementCodec.f32ToF16(Float(70000).bitPattern).overflow)
    #expect(!ElementCodec.f32ToF16(Float(65504).bitPattern).overflow)
    #expect(ElementCodec.f32ToBF16(Float.greatestFiniteMagnitude.bitPattern).overflow)
    let nan = ElementCodec.f32ToBF16(Float.nan.bitPattern)
    #expect(!nan.overflow && Float(bitPattern: UInt32(nan.0) << 16).isNaN)
  }

  @Test("chunk conversion names the first overflowing element")
  func chunkOverflow() {
    let values: [Float] = [1, 2, 1e6, 3, 1e7]
    let input = values.flatMap { TestTensor.encode($0, as: .F32) }
    var output = [UInt8](repeating: 0, count: values.count * 2)
    let outcome = input.withUnsafeBytes { raw in
      output.withUnsafeMutableBytes { ElementCodec.cast(raw, from: .F32, to: .F16, into: $0) }
    }
    #expect(outcome.firstOverflow == 2)
    #expect(outcome.overflowValue == 1e6)
  }

  @Test("BF16 → F16 goes through F32 exactly once")
  func brainToHalf() {
    let input = TestTensor.encode(0.1, as: .BF16)
    var output = [UInt8](repeating: 0, count: 2)
    _ = input.withUnsafeBytes { raw in
      output.withUnsafeMutableBytes { ElementCodec.cast(raw, from: .BF16, to: .F16, into: $0) }
    }
    let wide = Float(bitPattern: ElementCodec.bf16ToF32(UInt16(input[0]) | UInt16(input[1]) << 8))
    let half = Float(bitPattern: ElementCodec.f16ToF32(UInt16(output[0]) | UInt16(output[1]) << 8))
    #expect(wide == half)  // a BF16 value near 0.1 is exactly representable in F16
  }
  /// Runs the public (possibly vectorised) cast and the portable loop on the same input.
  private func bothPaths(_ input: [UInt8], from source: DType, to target: DType)
    -> (fast: [UInt8], portable: [UInt8], fastOutcome: ElementCodec.CastOutcome, portableOutcome: ElementCodec.CastOutcome)
  {
    let count = input.count / (source.bytesPerElement ?? 1) * (target.bytesPerElement ?? 1)
    var fast = [UInt8](repeating: 0xAA, count: count)
    var portable = [UInt8](repeating: 0x55, count: count)
    let fastOutcome = input.withUnsafeBytes { raw in
      fast.withUnsafeMutableBytes { ElementCodec.cast(raw, from: source, to: target, into: $0) }
    }
    let portableOutcome = input.withUnsafeBytes { raw in
      portable.withUnsafeMutableBytes { ElementCodec.castPortably(raw, from: source, to: target, into: $0) }
    }
    return (fast, portable, fastOutcome, portableOutcome)
  }

  /// The first byte index where `lhs` and `rhs` differ (nil when equal), so a failure stays short.
  private func firstDifference(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int? {
    guard lhs.count == rhs.count else { return min(lhs.count, rhs.count) }
    return zip(lhs, rhs).enumerated().first { $0.element.0 != $0.element.1 }?.offset
  }

  @Test("the vector cast matches the portable loop for every BF16 and F16 bit pattern")
  func vectorMatchesPortableExhaustively() {
    // Every 16-bit pattern, plus 3 more so a tail shorter than a vector block is exercised.
    let patterns = (0...UInt16.max).map { $0 } + [0x3C00, 0xFBFF, 0x7F80]
    let input = patterns.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    let brain = bothPaths(input, from: .BF16, to: .F16)
    #expect(firstDifference(brain.fast, brain.portable) == nil)
    #expect(brain.fastOutcome == brain.portableOutcome)
    #expect(brain.fastOutcome.firstOverflow != nil)
    let half = bothPaths(input, from: .F16, to: .F32)
    #expect(firstDifference(half.fast, half.portable) == nil)
    #expect(half.fastOutcome == half.portableOutcome)
  }

  @Test("the vector F32 → F16 cast matches the portable loop, overflow index included")
  func vectorMatchesPortableForFloats() {
    var state: UInt64 = 7
    var words: [UInt32] = [0, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0001, 0x7F80_0001, 0x3380_0000,
      0x3380_0001, 0x477F_E000, 0x477F_F000, 0x477F_EFFF, 0x0000_0001, 0x387F_E000]
    for _ in 0..<100_003 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      // Mostly values near the F16 range, so rounding and subnormals are exercised.
      let bits = UInt32(truncatingIfNeeded: state >> 29)
      words.append((bits & 0x8000_0000) | (0x3000_0000 + bits % 0x1800_0000))
    }
    let input = words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    let result = bothPaths(input, from: .F32, to: .F16)
    #expect(firstDifference(result.fast, result.portable) == nil)
    #expect(result.fastOutcome == result.portableOutcome)
    // Overflow in the third vector block (21 of 25 elements) and in a tail (9 of 13).
    for position in [21, 9] {
      var overflowing = Array(input[0..<(position * 4)]).map { _ in UInt8(0) }
      overflowing += [0x00, 0x00, 0x80, 0x47]  // 65536.0: overflows F16
      overflowing += [UInt8](repeating: 0, count: 12)
      let outcome = bothPaths(overflowing, from: .F32, to: .F16)
      #expect(outcome.fastOutcome.firstOverflow == position)
      #expect(outcome.fastOutcome == outcome.portableOutcome)
    }
  }
}

