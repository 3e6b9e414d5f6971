import Foundation
import Inspect
import Testing

@testable import Probe

/// The blocked product `x·Wᵀ` against a plain double-precision one, for batch sizes that take
/// each blocking (one block, several blocks with a shorter last one, OpenBLAS's small-matrix
/// sizes and the prefill blocks).
@Suite struct LinearTests {
  static func lmHead() throws -> Linear {
    let path = ProbeFixtures.root.appendingPathComponent("verifiers/llama").path
    let checkpoint = try CheckpointReader.open(path)
    let weights = WeightSet(checkpoint: checkpoint, reader: TensorReader())
    return try weights.linear("lm_head", out: 256, in: 64)
  }

  @Test(arguments: [1, 4, 300, 1000, 5000])
  func blockedProductMatchesPlainProduct(rows: Int) throws {
    let linear = try Self.lmHead()
    let weights = linear.weight.floats()
    let (out, inner) = (linear.outFeatures, linear.inFeatures)
    let input = (0..<(rows * inner)).map { Float(sin(Double($0) * 0.37)) }
    let output = linear(input, rows: rows)
    var worst = 0.0
    for r in stride(from: 0, to: rows, by: max(1, rows / 37)) {
      for j in 0..<out {
        var exact = 0.0
        for i in 0..<inner { exact += Double(input[r * inner + i]) * Double(weights[j * inner + i]) }
        worst = max(worst, abs(Double(output[r * out + j]) - exact))
      }
    }
    #expect(worst < 1e-4, "largest difference \(worst)")
  }

  @Test func decodeBlocksStayWithinTheSmallProductLimit() {
    for rows in [1, 2, 4, 9, 17] {
      for (out, inner) in [(14336, 4096), (4096, 14336), (128256, 4096), (1024, 8192)] {
        let block = Linear.blockRows(rows: rows, out: out, inner: inner)
        #expect(block >= 4 && block <= out)
        #expect(rows * block * inner <= Linear.smallProductLimit, "rows \(rows), [\(out), \(inner)]: \(block)")
        #expect(block * inner <= 1 << 19)
      }
    }
  }

  @Test func prefillBlocksAreLarge() {
    // 64 prompt rows: the small-matrix kernels cannot take even 4 weight rows of 4096.
    #expect(Linear.blockRows(rows: 64, out: 14336, inner: 4096) == 256)
    #expect(Linear.blockRows(rows: 64, out: 4096, inner: 14336) == 73)
    #expect(Linear.blockRows(rows: 64, out: 16, inner: 4096) == 16)
  }
}
