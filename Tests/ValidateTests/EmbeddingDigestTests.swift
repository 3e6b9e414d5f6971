import Foundation
import Testing

@testable import Inspect
@testable import Validate

@Suite struct EmbeddingDigestTests {
  static let samples: [Float] = {
    var values: [Float] = [
      0, -0, 1, -1, 0.5, 65504, 65520, 65519.99, 1e6, -1e6, 6.1035156e-05, 6.0e-08, 5.9604645e-08,
      2.9802322e-08, 2.98e-08, 1e-10, .infinity, -.infinity, 1.0009766, 1.00048828125, 1.00146484375,
      .leastNonzeroMagnitude, .greatestFiniteMagnitude,
    ]
    var noise = DraftFixtures.Noise("f16")
    for _ in 0..<5000 {
      let exponent = Int(noise.next() * 60) - 40
      values.append((noise.next() * 2 - 1) * Float(sign: .plus, exponent: exponent, significand: 1))
    }
    return values
  }()

  private static func f16(_ value: Float) -> UInt16 { ElementCodec.f32ToF16(value.bitPattern).0 }
  private static func bf16(_ value: Float) -> UInt16 { ElementCodec.f32ToBF16(value.bitPattern).0 }

  @Test func f16RoundingMatchesSwiftFloat16() {
    for value in Self.samples {
      #expect(Self.f16(value) == Float16(value).bitPattern, "\(value)")
    }
    #expect(Self.f16(.nan) & 0x7C00 == 0x7C00 && Self.f16(.nan) & 0x3FF != 0)
  }

  @Test func bf16RoundingIsNearestEven() {
    for value in Self.samples where value.isFinite {
      let rounded = Float(bitPattern: UInt32(Self.bf16(value)) << 16)
      if rounded.isInfinite {  // only the largest floats overflow, as torch's cast does
        #expect(abs(value) > 3.38e38, "\(value)")
        continue
      }
      let down = Float(bitPattern: value.bitPattern & 0xFFFF_0000)
      let up = Float(bitPattern: (value.bitPattern & 0xFFFF_0000) &+ 0x1_0000)
      #expect(rounded == down || rounded == up, "\(value)")
      let error = abs(Double(rounded) - Double(value))
      #expect(error <= abs(Double(down) - Double(value)) && error <= abs(Double(up) - Double(value)), "\(value)")
    }
    // Halfway cases go to the even mantissa.
    #expect(Self.bf16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
    #expect(Self.bf16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
  }

  @Test func castDigestEqualsTheDigestOfTheCastTensor() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let values = Self.samples.filter(\.isFinite).prefix(4096).map { $0 }
    let source = TensorSpec(name: "e", dtype: .BF16, shape: [values.count], values: .floats(values))
    let bf16Values = values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
    let asF16 = TensorSpec(name: "f", dtype: .F16, shape: [values.count], values: .floats(bf16Values))
    let asF32 = TensorSpec(name: "g", dtype: .F32, shape: [values.count], values: .floats(bf16Values))
    let infos = try SafetensorsFixture.write([source, asF16, asF32], to: root.appendingPathComponent("t.safetensors"))
    let reader = TensorReader()
    #expect(
      try EmbeddingDigest.digest(infos[0], castTo: .F16, reader: reader)
        == CheckpointHasher.xxh3(of: infos[1], reader: reader))
    #expect(
      try EmbeddingDigest.digest(infos[0], castTo: .F32, reader: reader)
        == CheckpointHasher.xxh3(of: infos[2], reader: reader))
    #expect(
      try EmbeddingDigest.digest(infos[2], castTo: .BF16, reader: reader)
        == CheckpointHasher.xxh3(of: infos[0], reader: reader))
  }
  @Test(
    "the element cast writes the rounding of every decoded value",
    arguments: [DType.F16, .BF16, .F32, .F64], [DType.F32, .BF16, .F16])
  func elementCast(source: DType, target: DType) throws {
    var bytes: [UInt8] = []
    for value in Self.samples {
      switch source {
      case .F64: withUnsafeBytes(of: Double(value).bitPattern.littleEndian) { bytes += $0 }
      default:
        bytes += TensorSpec(name: "v", dtype: source, shape: [1], values: .floats([value])).encoded()
      }
    }
    var buffer: [UInt8] = [1, 2, 3]
    bytes.withUnsafeBytes { EmbeddingDigest.cast($0, from: source, to: target, into: &buffer) }
    var expected: [UInt8] = []
    bytes.withUnsafeBytes { raw in
      ElementCodec.forEachFloat(raw, as: source, start: 0) { value, _ in
        switch target {
        case .F32: withUnsafeBytes(of: value.bitPattern.littleEndian) { expected += $0 }
        case .BF16: withUnsafeBytes(of: Self.bf16(value).littleEndian) { expected += $0 }
        default: withUnsafeBytes(of: Self.f16(value).littleEndian) { expected += $0 }
        }
      }
    }
    #expect(expected.count == Self.samples.count * (target == .F32 ? 4 : 2))
    #expect(buffer == expected)
  }

  @Test("a cast digest over many blocks equals the digest of the cast tensor")
  func castDigestAcrossBlocks() throws {
    let root = try SafetensorsFixture.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var noise = DraftFixtures.Noise("blocks")
    let count = 3 * TensorScan.blockSize / 4 + 7  // F32: three blocks and a part
    // BF16-exact values, so that the BF16 fixture (written by truncation) holds them unrounded.
    let values = (0..<count).map { _ in Float(bitPattern: (noise.next() - 0.5).bitPattern & 0xFFFF_0000) }
    let wide = TensorSpec(name: "w", dtype: .F32, shape: [count], values: .floats(values))
    let half = TensorSpec(name: "h", dtype: .F16, shape: [count], values: .floats(values))
    let brain = TensorSpec(name: "b", dtype: .BF16, shape: [count], values: .floats(values))
    let infos = try SafetensorsFixture.write(
      [wide, half, brain], to: root.appendingPathComponent("t.safetensors"))
    let reader = TensorReader()
    #expect(
      try EmbeddingDigest.digest(infos[0], castTo: .F16, reader: reader)
        == CheckpointHasher.xxh3(of: infos[1], reader: reader))
    #expect(
      try EmbeddingDigest.digest(infos[0], castTo: .BF16, reader: reader)
        == CheckpointHasher.xxh3(of: infos[2], reader: reader))
    #expect(
      try EmbeddingDigest.digest(infos[2], castTo: .F32, reader: reader)
        == CheckpointHasher.xxh3(of: infos[0], reader: reader))
  }

  @Test("a cast digest keeps NaN payloads as convert's cast and torch's .to(torch.float16) do")
  func castKeepsNaNPayloads() {
    // BF16 NaNs with payloads and what torch 2.13 (CPU) writes for them in float16.
    let patterns: [UInt16] = [0x7FC0, 0x7F81, 0x7FA1, 0xFFC1, 0xFF81, 0x7FFF, 0x7F80, 0x3F80]
    let torch: [UInt16] = [0x7E00, 0x7E08, 0x7F08, 0xFE08, 0xFE08, 0x7FF8, 0x7C00, 0x3C00]
    for copies in [1, 3] {  // 8 elements (one vector block) and 24
      let input = Array(repeating: patterns, count: copies).flatMap { $0 }.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
      var buffer: [UInt8] = []
      input.withUnsafeBytes { EmbeddingDigest.cast($0, from: .BF16, to: .F16, into: &buffer) }
      let halves = stride(from: 0, to: buffer.count, by: 2).map { UInt16(buffer[$0]) | UInt16(buffer[$0 + 1]) << 8 }
      #expect(halves == Array(repeating: torch, count: copies).flatMap { $0 })
    }
  }
}
