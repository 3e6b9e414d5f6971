import CWeightProduct
import Foundation
import Inspect
import Testing

@testable import Probe

/// The fused decode product (BF16/F16 weights widened in registers) against a double-precision
/// product of the exactly widened weights: every row count the kernel takes, sizes that leave
/// a vector tail and an odd last weight row, with and without a bias, through `Linear` and
/// through each instruction-set level of the kernel; and outputs that do not depend on how the
/// kernel groups weight rows.
@Suite struct FusedProductTests {
  /// A one-tensor-pair checkpoint: `layer.weight` (`[out, inner]`, `dtype`, deterministic
  /// values) and, when asked, an F32 `layer.bias`.
  static func linear(dtype: DType, out: Int, inner: Int, bias: Bool) throws -> Linear {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("fused-product-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var weightBytes = [UInt8]()
    for index in 0..<(out * inner) {
      let value = Float(cos(Double(index) * 0.731) * 2.5)
      let bits: UInt16 = dtype == .BF16 ? UInt16(value.bitPattern >> 16) : Float16(value).bitPattern
      weightBytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
    }
    var biasBytes = [UInt8]()
    for j in 0..<out {
      let bits = Float(Double(j) * 0.125 - 1).bitPattern
      biasBytes += [0, 8, 16, 24].map { UInt8((bits >> UInt32($0)) & 0xFF) }
    }
    var header = "{\"layer.weight\":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(out),\(inner)],"
      + "\"data_offsets\":[0,\(weightBytes.count)]}"
    if bias {
      header += ",\"layer.bias\":{\"dtype\":\"F32\",\"shape\":[\(out)],"
        + "\"data_offsets\":[\(weightBytes.count),\(weightBytes.count + biasBytes.count)]}"
    }
    header += "}"
    while header.utf8.count % 8 != 0 { header += " " }
    var file = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { [UInt8]($0) }
    file += Array(header.utf8) + weightBytes + (bias ? biasBytes : [])
    try Data(file).write(to: directory.appendingPathComponent("model.safetensors"))
    try Data("{}".utf8).write(to: directory.appendingPathComponent("config.json"))
    let checkpoint = try CheckpointReader.open(directory.path)
    let weights = WeightSet(checkpoint: checkpoint, reader: TensorReader())
    return try weights.linear("layer", out: out, in: inner)
  }

  /// The largest difference between `output` and the double-precision product, divided by
  /// the sum of the magnitudes of the terms (what float accumulation error scales with).
  static func worstRelativeError(
    _ output: [Float], input: [Float], weights: [Float], bias: [Float]?, rows: Int, out: Int, inner: Int
  ) -> Double {
    var worst = 0.0
    for r in 0..<rows {
      for j in 0..<out {
        var exact = Double(bias?[j] ?? 0)
        var scale = abs(exact)
        for i in 0..<inner {
          let term = Double(input[r * inner + i]) * Double(weights[j * inner + i])
          exact += term
          scale += abs(term)
        }
        worst = max(worst, abs(Double(output[r * out + j]) - exact) / max(scale, 1e-30))
      }
    }
    return worst
  }

  static func input(rows: Int, inner: Int) -> [Float] {
    (0..<(rows * inner)).map { Float(sin(Double($0) * 0.37 + 0.1)) }
  }

  @Test(arguments: [DType.BF16, .F16], [(37, 61), (64, 48), (9, 16), (3, 5), (130, 300)])
  func linearMatchesDoublePrecision(dtype: DType, size: (Int, Int)) throws {
    let (out, inner) = size
    for bias in [false, true] {
      let linear = try Self.linear(dtype: dtype, out: out, inner: inner, bias: bias)
      let weights = linear.weight.floats()
      for rows in 1...Linear.fusedRowLimit {
        let input = Self.input(rows: rows, inner: inner)
        let output = linear(input, rows: rows)
        let worst = Self.worstRelativeError(
          output, input: input, weights: weights, bias: linear.bias, rows: rows, out: out, inner: inner)
        #expect(worst < 1e-6, "\(dtype) \(out)×\(inner) rows \(rows) bias \(bias): \(worst)")
      }
    }
  }

  @Test(arguments: [Int32(0), 1, 2])
  func everyInstructionSetMatchesDoublePrecision(level: Int32) throws {
    for dtype in [DType.BF16, .F16] {
      let (out, inner) = (19, 77)
      let linear = try Self.linear(dtype: dtype, out: out, inner: inner, bias: false)
      let weights = linear.weight.floats()
      for rows in 1...Linear.fusedRowLimit {
        let input = Self.input(rows: rows, inner: inner)
        var output = [Float](repeating: .nan, count: rows * out)
        let type = try #require(Linear.fusedType(dtype))
        input.withUnsafeBufferPointer { x in
          output.withUnsafeMutableBufferPointer { y in
            // Two calls over adjoining row ranges, as the workers make them.
            speculators_weight_product_at_level(
              level, type, x.baseAddress, rows, inner, linear.weight.bytes.baseAddress, 0, 8, y.baseAddress, out)
            speculators_weight_product_at_level(
              level, type, x.baseAddress, rows, inner, linear.weight.bytes.baseAddress, 8, out - 8,
              y.baseAddress, out)
          }
        }
        let worst = Self.worstRelativeError(
          output, input: input, weights: weights, bias: nil, rows: rows, out: out, inner: inner)
        #expect(worst < 1e-6, "level \(level) \(dtype) rows \(rows): \(worst)")
      }
    }
  }

  @Test(arguments: [Int32(0), 1, 2])
  func groupingLeavesEveryOutputUnchanged(level: Int32) throws {
    // The kernel takes weight rows in groups (up to 8) and the rows left over one at a time;
    // each output must come out bit for bit the same however the rows fall into groups.
    for dtype in [DType.BF16, .F16] {
      let (out, inner) = (23, 100)
      let linear = try Self.linear(dtype: dtype, out: out, inner: inner, bias: false)
      let type = try #require(Linear.fusedType(dtype))
      for rows in 1...Linear.fusedRowLimit {
        let input = Self.input(rows: rows, inner: inner)
        var whole = [Float](repeating: .nan, count: rows * out)
        var single = [Float](repeating: .nan, count: rows * out)
        input.withUnsafeBufferPointer { x in
          whole.withUnsafeMutableBufferPointer { y in
            speculators_weight_product_at_level(
              level, type, x.baseAddress, rows, inner, linear.weight.bytes.baseAddress, 0, out, y.baseAddress, out)
          }
          single.withUnsafeMutableBufferPointer { y in
            for j in 0..<out {
              speculators_weight_product_at_level(
                level, type, x.baseAddress, rows, inner, linear.weight.bytes.baseAddress, j, 1, y.baseAddress, out)
            }
          }
        }
        #expect(whole.map(\.bitPattern) == single.map(\.bitPattern), "level \(level) \(dtype) rows \(rows)")
      }
    }
  }

  @Test func nonFiniteWeightsStayNonFinite() throws {
    // F16 infinity and BF16 NaN widen to the same in the kernel as in the codec.
    let linear = try Self.linear(dtype: .F16, out: 2, inner: 3, bias: false)
    #expect(linear.weight.info.dtype == .F16)
    var halves: [UInt16] = [0x7C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00]  // inf, then ones
    var output = [Float](repeating: 0, count: 2)
    let input: [Float] = [1, 1, 1]
    for level in Int32(0)...2 {
      input.withUnsafeBufferPointer { x in
        halves.withUnsafeMutableBytes { w in
          output.withUnsafeMutableBufferPointer { y in
            speculators_weight_product_at_level(
              level, Int32(speculators_weight_f16.rawValue), x.baseAddress, 1, 3, w.baseAddress, 0, 2,
              y.baseAddress, 2)
          }
        }
      }
      #expect(output[0] == .infinity && output[1] == 3, "level \(level): \(output)")
    }
    halves[0] = 0x7FC0  // a BF16 NaN
    input.withUnsafeBufferPointer { x in
      halves.withUnsafeMutableBytes { w in
        output.withUnsafeMutableBufferPointer { y in
          speculators_weight_product(
            Int32(speculators_weight_bf16.rawValue), x.baseAddress, 1, 3, w.baseAddress, 0, 1, y.baseAddress, 2)
        }
      }
    }
    #expect(output[0].isNaN)
  }
}
