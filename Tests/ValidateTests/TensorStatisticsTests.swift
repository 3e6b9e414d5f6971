import Testing

@testable import Inspect
@testable import Validate

/// The block kernels behind `--content` against the element-by-element reference.
@Suite struct TensorStatisticsTests {
  /// Little-endian elements of `dtype` drawn from a mix of ordinary values, exact ones and zeros,
  /// subnormals, extremes and (unless `finite`) NaNs and infinities; starting `offset` bytes into
  /// the returned buffer so that loads are unaligned.
  static func elements(_ dtype: DType, count: Int, seed: UInt64, finite: Bool, offset: Int = 0) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 11
    }
    let size = dtype == .F32 ? 4 : 2
    var bytes = [UInt8](repeating: 0xA5, count: offset)
    for _ in 0..<count {
      let pick = next() % 100
      var value: Float
      switch pick {
      case 0..<60: value = (Float(next() % 2_000_001) / 1_000_000 - 1) * 0.05
      case 60..<68: value = 1
      case 68..<72: value = next() % 2 == 0 ? 0 : -0.0
      case 72..<76: value = Float(next() % 1000) * 0x1p-24 * (next() % 2 == 0 ? 1 : -1)
      case 76..<80: value = dtype == .F16 ? 65504 : -3.0e38
      case 80..<82 where !finite: value = next() % 2 == 0 ? .nan : (next() % 2 == 0 ? .infinity : -.infinity)
      default: value = Float(next() % 100_000) / 997 - 50
      }
      var bits: UInt32
      switch dtype {
      case .F32: bits = value.bitPattern
      case .BF16: bits = value.bitPattern >> 16
      default: bits = UInt32(Float16(value).bitPattern)
      }
      if !finite, pick == 82, dtype != .F32 {
        bits = UInt32(next() & 0xFFFF)  // any pattern, a NaN payload or a signalling NaN included
      }
      for byte in 0..<size { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * byte))) }
    }
    return bytes
  }

  /// Statistics of every element through ``TensorStatistics/add(_:at:)``.
  static func reference(_ bytes: UnsafeRawBufferPointer, _ dtype: DType) -> TensorStatistics {
    var stats = TensorStatistics()
    ElementCodec.forEachFloat(bytes, as: dtype, start: 0) { stats.add($0, at: $1) }
    return stats
  }

  /// Counts, first index and maximum equal; sums equal up to the order they were added in.
  static func expectAgreement(
    _ stats: TensorStatistics, _ expected: TensorStatistics, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(stats.count == expected.count, "\(label)", sourceLocation: sourceLocation)
    #expect(stats.nanCount == expected.nanCount, "\(label)", sourceLocation: sourceLocation)
    #expect(stats.infCount == expected.infCount, "\(label)", sourceLocation: sourceLocation)
    #expect(stats.firstNonFinite == expected.firstNonFinite, "\(label)", sourceLocation: sourceLocation)
    #expect(stats.onesCount == expected.onesCount, "\(label)", sourceLocation: sourceLocation)
    #expect(stats.zerosCount == expected.zerosCount, "\(label)", sourceLocation: sourceLocation)
    #expect(stats.maxAbs == expected.maxAbs, "\(label)", sourceLocation: sourceLocation)
    // Σ|x| ≤ √(n Σx²): the rounding of any order of the additions is bounded by that scale.
    let scale = (Double(max(1, expected.count)) * expected.sumSquares).squareRoot()
    #expect(abs(stats.sum - expected.sum) <= 1e-12 * scale, "\(label)", sourceLocation: sourceLocation)
    #expect(
      abs(stats.sumSquares - expected.sumSquares) <= 1e-12 * expected.sumSquares, "\(label)",
      sourceLocation: sourceLocation)
    #expect(
      abs(stats.sumFourth - expected.sumFourth) <= 1e-12 * expected.sumFourth, "\(label)",
      sourceLocation: sourceLocation)
  }

  /// The kernels to check: the portable one always, the AVX2 one where the CPU has it.
  static var kernelModes: [Bool] { TensorStatistics.vectorised ? [false, true] : [false] }

  @Test(
    "block kernels agree with the element loop", arguments: [DType.F16, .BF16, .F32],
    [0, 1, 3, 15, 16, 17, 33, 1023, 1024, 1025, 16 * 64 + 5, 70_001])
  func kernelsAgree(dtype: DType, count: Int) throws {
    let kernel = try #require(TensorStatistics.Kernel(dtype))
    for (seed, finite) in [(UInt64(1), true), (2, false), (3, false)] {
      for offset in [0, 1] {
        let buffer = Self.elements(
          dtype, count: count, seed: seed &+ UInt64(count), finite: finite, offset: offset)
        try buffer.withUnsafeBytes { raw in
          let bytes = UnsafeRawBufferPointer(rebasing: raw[offset...])
          let expected = Self.reference(bytes, dtype)
          if !finite, count > 100 { #expect(expected.nanCount + expected.infCount > 0) }
          for vectorised in Self.kernelModes {
            var stats = TensorStatistics()
            if count > 0 {
              let base = try #require(bytes.baseAddress)
              stats.merge(kernel.summarise(base, count: count, vectorised: vectorised), elements: count)
            }
            Self.expectAgreement(stats, expected, "\(dtype) n=\(count) seed=\(seed) vector=\(vectorised)")
          }
          var dispatched = TensorStatistics()
          dispatched.add(bytes, dtype: dtype)
          Self.expectAgreement(dispatched, expected, "\(dtype) n=\(count) seed=\(seed) dispatched")
        }
      }
    }
  }

  @Test("every F16 bit pattern is classified and decoded like the element loop")
  func everyHalf() throws {
    var bytes: [UInt8] = []
    for pattern in 0...UInt16.max { bytes += [UInt8(pattern & 0xFF), UInt8(pattern >> 8)] }
    try bytes.withUnsafeBytes { raw in
      let expected = Self.reference(raw, .F16)
      #expect(expected.nanCount == 2 * 1023 && expected.infCount == 2)
      #expect(expected.firstNonFinite == 0x7C00 && expected.onesCount == 1 && expected.zerosCount == 2)
      #expect(expected.maxAbs == 65504)
      for vectorised in Self.kernelModes {
        var stats = TensorStatistics()
        let base = try #require(raw.baseAddress)
        let block = TensorStatistics.Kernel.f16.summarise(base, count: 65536, vectorised: vectorised)
        stats.merge(block, elements: 65536)
        Self.expectAgreement(stats, expected, "all halves, vector=\(vectorised)")
      }
    }
  }

  @Test(
    "the first non-finite index is exact wherever it falls in a vector block",
    arguments: [DType.F16, .BF16, .F32], [0, 7, 15, 16, 1023, 1024, 1039, 4999])
  func firstNonFinite(dtype: DType, position: Int) throws {
    let count = 5000
    var values = [Float](repeating: 0.25, count: count)
    values[count - 1] = -.infinity
    values[position] = .nan
    if position + 1 < count { values[position + 1] = .infinity }
    let infinities = position == count - 1 ? 0 : (position + 1 < count - 1 ? 2 : 1)
    let spec = TensorSpec(name: "t", dtype: dtype, shape: [count], values: .floats(values))
    let bytes = spec.encoded()
    for vectorised in Self.kernelModes {
      let block = try bytes.withUnsafeBytes { raw in
        try #require(TensorStatistics.Kernel(dtype)).summarise(
          try #require(raw.baseAddress), count: count, vectorised: vectorised)
      }
      var stats = TensorStatistics()
      stats.merge(block, elements: count)
      #expect(stats.firstNonFinite == position, "\(dtype) vector=\(vectorised)")
      #expect(stats.nanCount == 1)
      #expect(stats.infCount == infinities)
      let finite = count - stats.nanCount - stats.infCount
      #expect(stats.sum == 0.25 * Double(finite) && stats.maxAbs == 0.25)
    }
  }

  @Test("statistics added chunk by chunk equal one pass")
  func chunksMerge() {
    let count = 20_000
    let buffer = Self.elements(.BF16, count: count, seed: 9, finite: false)
    buffer.withUnsafeBytes { raw in
      let expected = Self.reference(raw, .BF16)
      #expect(expected.firstNonFinite != nil)
      var stats = TensorStatistics()
      var start = 0
      var step = 1
      while start < count {
        let stop = min(count, start + step)
        stats.add(UnsafeRawBufferPointer(rebasing: raw[(2 * start)..<(2 * stop)]), dtype: .BF16)
        start = stop
        step = step * 3 + 1
      }
      Self.expectAgreement(stats, expected, "chunked")
    }
  }

  @Test("dtypes without a block kernel still go element by element")
  func otherDTypes() throws {
    let doubles: [Double] = [1, 0, -2.5, 1e300, .nan]
    var bytes: [UInt8] = []
    for value in doubles {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
    var stats = TensorStatistics()
    bytes.withUnsafeBytes { stats.add($0, dtype: .F64) }
    // 1e300 overflows Float: it counts as an infinity, as the element loop always did.
    #expect(stats.count == 5 && stats.nanCount == 1 && stats.infCount == 1 && stats.firstNonFinite == 3)
    #expect(stats.onesCount == 1 && stats.zerosCount == 1 && stats.maxAbs == 2.5 && stats.sum == -1.5)
  }
}
