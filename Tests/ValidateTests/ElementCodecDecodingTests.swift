import Inspect
import Testing

@testable import Validate

@Suite struct ElementCodecDecodingTests {
  private func decode(_ bytes: [UInt8], _ dtype: DType) -> [Double] {
    let size = dtype.bytesPerElement ?? 1
    var out = [Double](repeating: -12345, count: bytes.count / size)
    let count = bytes.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer { ElementCodec.decode(raw, as: dtype, into: $0) }
    }
    #expect(count == out.count)
    return out
  }

  @Test func halfPrecisionCoversNormalsSubnormalsAndSpecials() {
    let patterns: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x8000, 0x7C00, 0xFC00]
    let values = decode(patterns.flatMap { TestTensor.littleEndian($0) }, .F16)
    #expect(values == [1, -2, 0x1p-24, 1023 * 0x1p-24, 65504, 0, .infinity, -.infinity])
    #expect(values[5].sign == .minus)
    #expect(decode(TestTensor.littleEndian(UInt16(0x7E00)), .F16)[0].isNaN)
  }

  @Test func bfloat16AndFloat32AndFloat64() {
    #expect(decode(TestTensor.littleEndian(UInt16(0x3F80)) + TestTensor.littleEndian(UInt16(0xC0A0)), .BF16) == [1, -5])
    #expect(decode(TestTensor.littleEndian(Float(0.1).bitPattern), .F32) == [Double(Float(0.1))])
    #expect(decode(TestTensor.littleEndian((0.1 as Double).bitPattern), .F64) == [0.1])
  }

  // Expected values from torch 2.13 (`torch.arange(256, dtype=torch.uint8).view(dtype).double()`).
  @Test(arguments: [
    (DType.F8_E4M3, UInt8(0x01), 0.001953125), (.F8_E4M3, 0x7E, 448), (.F8_E4M3, 0x38, 1), (.F8_E4M3, 0xFE, -448),
    (.F8_E5M2, 0x01, 1.52587890625e-05), (.F8_E5M2, 0x7B, 57344), (.F8_E5M2, 0x7C, .infinity),
    (.F8_E5M2, 0xFC, -.infinity), (.F8_E4M3FNUZ, 0x01, 0.0009765625), (.F8_E4M3FNUZ, 0x7F, 240),
    (.F8_E4M3FNUZ, 0xFF, -240), (.F8_E5M2FNUZ, 0x01, 7.62939453125e-06), (.F8_E5M2FNUZ, 0x7F, 57344),
    (.F8_E8M0, 0x7F, 1), (.F8_E8M0, 0x00, 5.877471754111438e-39), (.F8_E8M0, 0xFE, 1.7014118346046923e+38),
  ])
  func eightBitFloatsMatchTorch(dtype: DType, pattern: UInt8, expected: Double) {
    #expect(decode([pattern], dtype) == [expected])
  }

  @Test(arguments: [
    (DType.F8_E4M3, UInt8(0x7F)), (.F8_E4M3, 0xFF), (.F8_E5M2, 0x7D), (.F8_E5M2, 0xFF), (.F8_E4M3FNUZ, 0x80),
    (.F8_E5M2FNUZ, 0x80), (.F8_E8M0, 0xFF),
  ])
  func eightBitNaNPatterns(dtype: DType, pattern: UInt8) {
    #expect(decode([pattern], dtype)[0].isNaN)
  }

  @Test func integersAndBooleans() {
    #expect(decode([0xFF, 0x01], .I8) == [-1, 1])
    #expect(decode([0xFF, 0x01], .U8) == [255, 1])
    #expect(decode([0, 1, 2], .BOOL) == [0, 1, 1])
    #expect(decode(TestTensor.littleEndian(Int16(-300)), .I16) == [-300])
    #expect(decode(TestTensor.littleEndian(UInt16(65535)), .U16) == [65535])
    #expect(decode(TestTensor.littleEndian(Int32(-70000)), .I32) == [-70000])
    #expect(decode(TestTensor.littleEndian(UInt32.max), .U32) == [4294967295])
    #expect(decode(TestTensor.littleEndian(Int64(-5)), .I64) == [-5])
    #expect(decode(TestTensor.littleEndian(UInt64(1) << 40), .U64) == [0x1p40])
  }

  @Test func subByteAndComplexTypesAreNotDecoded() {
    for dtype in [DType.F4, .F6_E2M3, .F6_E3M2, .C64] {
      #expect(!ElementCodec.canDecode(dtype))
      var out = [Double](repeating: 7, count: 4)
      let count = [UInt8](repeating: 0, count: 16).withUnsafeBytes { raw in
        out.withUnsafeMutableBufferPointer { ElementCodec.decode(raw, as: dtype, into: $0) }
      }
      #expect(count == 0)
      #expect(out == [7, 7, 7, 7])
    }
  }

  @Test func decodingStopsAtTheOutputCapacity() {
    var out = [Double](repeating: 0, count: 2)
    let bytes: [UInt8] = [1, 2, 3, 4]
    let count = bytes.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer { ElementCodec.decode(raw, as: .U8, into: $0) }
    }
    #expect(count == 2)
    #expect(out == [1, 2])
  }
}
