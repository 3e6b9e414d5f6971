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

  @Test func f16RoundingMatchesSwiftFloat16() {
    for value in Self.samples {
      #expect(EmbeddingDigest.f16(value) == Float16(value).bitPattern, "\(value)")
    }
    #expect(EmbeddingDigest.f16(.nan) & 0x7C00 == 0x7C00 && EmbeddingDigest.f16(.nan) & 0x3FF != 0)
  }

  @Test func bf16RoundingIsNearestEven() {
    for value in Self.samples where value.isFinite {
      let rounded = Float(bitPattern: UInt32(EmbeddingDigest.bf16(value)) << 16)
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
    #expect(EmbeddingDigest.bf16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
    #expect(EmbeddingDigest.bf16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
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
    "the element cast writes what bf16(_:) and f16(_:) give for every decoded value",
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
      FloatDecoding.forEach(raw, dtype: source, start: 0) { value, _ in
        switch target {
        case .F32: withUnsafeBytes(of: value.bitPattern.littleEndian) { expected += $0 }
        case .BF16: withUnsafeBytes(of: EmbeddingDigest.bf16(value).littleEndian) { expected += $0 }
        default: withUnsafeBytes(of: EmbeddingDigest.f16(value).littleEndian) { expected += $0 }
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

  @Test("the block BF16 → F16 cast equals f16(_:) of every element, for every BF16 bit pattern")
  func blockCastMatchesElementCast() {
    // Every pattern plus 5 more, so the tail after the blocks of 8 is exercised too.
    let patterns = (0...UInt16.max).map { $0 } + [0x3F80, 0x7FC1, 0xFF81, 0x0001, 0x4780]
    let input = patterns.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    var buffer: [UInt8] = []
    input.withUnsafeBytes { EmbeddingDigest.castBF16ToF16($0, into: &buffer) }
    let expected = patterns.flatMap { pattern -> [UInt8] in
      let half = EmbeddingDigest.f16(Float(bitPattern: UInt32(pattern) << 16))
      return [UInt8(half & 0xFF), UInt8(half >> 8)]
    }
    #expect(buffer.count == expected.count)
    #expect(zip(buffer, expected).allSatisfy { $0 == $1 })
  }
}

