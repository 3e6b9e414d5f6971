import Inspect
import Testing

@testable import Convert

@Suite("FloatCast")
struct FloatCastTests {
  @Test("every finite F16 value survives F16 → F32 → F16")
  func halfRoundTrip() {
    for raw in 0...UInt16.max {
      let exponent = (raw >> 10) & 0x1F
      let wide = FloatCast.f16ToF32(raw)
      let (back, overflow) = FloatCast.f32ToF16(wide)
      if exponent == 0x1F && raw & 0x3FF != 0 {
        #expect(Float(bitPattern: wide).isNaN)
      } else {
        #expect(back == raw && !overflow, "F16 \(raw)")
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
        let (ours, overflow) = FloatCast.f32ToF16(bits)
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
    let (result, overflow) = FloatCast.f32ToBF16(input)
    #expect(result == expected)
    #expect(!overflow)
  }

  @Test("a finite value too large for the target is reported as overflow")
  func overflow() {
    #expect(FloatCast.f32ToF16(Float(70000).bitPattern).overflow)
    #expect(!FloatCast.f32ToF16(Float(65504).bitPattern).overflow)
    #expect(FloatCast.f32ToBF16(Float.greatestFiniteMagnitude.bitPattern).overflow)
    let nan = FloatCast.f32ToBF16(Float.nan.bitPattern)
    #expect(!nan.overflow && Float(bitPattern: UInt32(nan.0) << 16).isNaN)
  }

  @Test("chunk conversion names the first overflowing element")
  func chunkOverflow() {
    let values: [Float] = [1, 2, 1e6, 3, 1e7]
    let input = values.flatMap { TestTensor.encode($0, as: .F32) }
    var output = [UInt8](repeating: 0, count: values.count * 2)
    let outcome = input.withUnsafeBytes { raw in
      output.withUnsafeMutableBytes { FloatCast.convert(raw, from: .F32, to: .F16, into: $0) }
    }
    #expect(outcome.firstOverflow == 2)
    #expect(outcome.overflowValue == 1e6)
  }

  @Test("BF16 → F16 goes through F32 exactly once")
  func brainToHalf() {
    let input = TestTensor.encode(0.1, as: .BF16)
    var output = [UInt8](repeating: 0, count: 2)
    _ = input.withUnsafeBytes { raw in
      output.withUnsafeMutableBytes { FloatCast.convert(raw, from: .BF16, to: .F16, into: $0) }
    }
    let wide = Float(bitPattern: FloatCast.bf16ToF32(UInt16(input[0]) | UInt16(input[1]) << 8))
    let half = Float(bitPattern: FloatCast.f16ToF32(UInt16(output[0]) | UInt16(output[1]) << 8))
    #expect(wide == half)  // a BF16 value near 0.1 is exactly representable in F16
  }
}
