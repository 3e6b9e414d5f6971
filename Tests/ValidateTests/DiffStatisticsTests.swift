import Testing

@testable import Validate

@Suite struct DiffStatisticsTests {
  private func statistics(_ a: [Double], _ b: [Double], rtol: Double = 0, atol: Double = 0, split: Int? = nil)
    -> ValueStatistics
  {
    var accumulator = StreamingStatistics(relativeTolerance: rtol, absoluteTolerance: atol)
    let step = split ?? max(a.count, 1)
    var start = 0
    while start < a.count {
      let end = min(a.count, start + step)
      a[start..<end].withUnsafeBufferPointer { blockA in
        b[start..<end].withUnsafeBufferPointer { blockB in
          accumulator.add(a: blockA, b: blockB, startIndex: start)
        }
      }
      start = end
    }
    return accumulator.result
  }

  @Test func knownVectors() {
    let result = statistics([1, 2, 3], [1, 2, 4])
    #expect(result.elementCount == 3)
    #expect(result.maxAbsDifference == 1)
    #expect(result.maxAbsDifferenceIndex == 2)
    #expect(result.aAtMax == 3)
    #expect(result.bAtMax == 4)
    #expect(abs(result.meanAbsDifference - 1.0 / 3) < 1e-15)
    #expect(abs((result.relativeL2 ?? 0) - 1 / 14.0.squareRoot()) < 1e-15)
    #expect(abs((result.cosineSimilarity ?? 0) - 17 / (14.0 * 21).squareRoot()) < 1e-15)
    #expect(result.beyondTolerance == 1)
    #expect(result.firstBeyondToleranceIndex == 2)
  }

  @Test func blockSplittingDoesNotChangeTheResult() {
    let a = (0..<1000).map { Double($0) * 0.37 - 100 }
    let b = a.enumerated().map { $0.offset % 7 == 0 ? $0.element + Double($0.offset) * 1e-3 : $0.element }
    let whole = statistics(a, b)
    let split = statistics(a, b, split: 13)
    #expect(whole.maxAbsDifferenceIndex == split.maxAbsDifferenceIndex)
    #expect(whole.maxAbsDifference == split.maxAbsDifference)
    #expect(whole.beyondTolerance == split.beyondTolerance)
    #expect(whole.beyondTolerance == 142)  // every 7th of 1..999 (index 0 adds 0)
    #expect(abs(whole.meanAbsDifference - split.meanAbsDifference) < 1e-15)
    #expect(abs((whole.relativeL2 ?? 0) - (split.relativeL2 ?? 1)) < 1e-15)
  }

  @Test func toleranceFollowsNumpyIsclose() {
    // |a-b| > atol + rtol*|b|: 1e-6 off at b = 1 is within rtol 1e-5; 1e-4 off is not.
    let result = statistics([1, 1, 1e-9], [1 + 1e-6, 1 + 1e-4, 0], rtol: 1e-5, atol: 1e-8)
    #expect(result.beyondTolerance == 1)
    #expect(result.firstBeyondToleranceIndex == 1)
    #expect(!result.isWithinTolerance)
  }

  @Test func nanAndInfinityRules() {
    let nan = Double.nan
    let result = statistics([nan, .infinity, 1, nan, -.infinity, 2], [nan, .infinity, nan, 1, .infinity, 2])
    // Equal: NaN/NaN, +inf/+inf, 2/2. Mismatches: 1 vs NaN, NaN vs 1, -inf vs +inf.
    #expect(result.nonFiniteMismatches == 3)
    #expect(result.beyondTolerance == 3)
    #expect(result.firstBeyondToleranceIndex == 2)
    #expect(result.maxAbsDifference == 0)
    #expect(result.maxAbsDifferenceIndex == nil)
    #expect(result.meanAbsDifference == 0)
    #expect(result.relativeL2 == 0)
  }

  @Test func zeroNormsAreDefined() {
    let bothZero = statistics([0, 0], [0, -0.0])
    #expect(bothZero.relativeL2 == 0)
    #expect(bothZero.cosineSimilarity == 1)
    #expect(bothZero.beyondTolerance == 0)
    let aZero = statistics([0, 0], [1, 0])
    #expect(aZero.relativeL2 == nil)
    #expect(aZero.cosineSimilarity == nil)
    let bZero = statistics([3, 4], [0, 0])
    #expect(bZero.relativeL2 == 1)
    #expect(bZero.cosineSimilarity == nil)
  }

  @Test func compensatedSumsStayAccurate() {
    // 10^6 blocks each adding 0.1 to a running sum that reaches 1e5: naive summation drifts.
    var accumulator = StreamingStatistics(relativeTolerance: 0, absoluteTolerance: 0)
    let a: [Double] = [0.1]
    let b: [Double] = [0]
    for index in 0..<1_000_000 {
      a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in accumulator.add(a: x, b: y, startIndex: index) } }
    }
    #expect(abs(accumulator.result.meanAbsDifference - 0.1) < 1e-15)
  }
}
