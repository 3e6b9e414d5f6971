/// Numeric differences between two tensors of the same shape, computed in double precision.
///
/// `a` is the first checkpoint's tensor and `b` the second's. Positions where either value is
/// NaN or infinite are kept out of the norms and means: two NaNs, or two infinities of the same
/// sign, count as equal there; any other non-finite pairing is a mismatch, counted both in
/// ``nonFiniteMismatches`` and in ``beyondTolerance``.
public struct ValueStatistics: Sendable, Equatable {
  /// Elements compared.
  public var elementCount: Int
  /// The largest |a − b| over positions where both values are finite (0 when there are none).
  public var maxAbsDifference: Double
  /// The C-order flat index of the first position reaching ``maxAbsDifference``, or `nil` when
  /// every finite pair is equal.
  public var maxAbsDifferenceIndex: Int?
  /// `a` at ``maxAbsDifferenceIndex``.
  public var aAtMax: Double?
  /// `b` at ``maxAbsDifferenceIndex``.
  public var bAtMax: Double?
  /// The mean of |a − b| over positions where both values are finite.
  public var meanAbsDifference: Double
  /// ‖a − b‖₂ / ‖a‖₂ over finite positions; 0 when both norms are 0, `nil` (undefined) when
  /// ‖a‖₂ is 0 but a and b differ.
  public var relativeL2: Double?
  /// a·b / (‖a‖₂ ‖b‖₂) over finite positions; 1 when both are all zeros, `nil` (undefined)
  /// when exactly one of them is.
  public var cosineSimilarity: Double?
  /// The number of positions where `|a − b| > atol + rtol × |b|` (NumPy `isclose` with
  /// `equal_nan=True`), including non-finite mismatches.
  public var beyondTolerance: Int
  /// The C-order flat index of the first position beyond tolerance, if any.
  public var firstBeyondToleranceIndex: Int?
  /// Positions where the values differ and at least one of them is NaN or infinite.
  public var nonFiniteMismatches: Int
  /// The relative tolerance applied.
  public var relativeTolerance: Double
  /// The absolute tolerance applied.
  public var absoluteTolerance: Double

  /// Whether every position is within tolerance.
  public var isWithinTolerance: Bool { beyondTolerance == 0 }
}

/// Accumulates ``ValueStatistics`` over a tensor pair delivered in blocks, with memory that does
/// not depend on the tensor size.
///
/// Each block is summed in double precision, and block sums are added to the running totals with
/// Neumaier's compensated summation, so the totals stay accurate over billions of elements.
package struct StreamingStatistics: Sendable {
  private let rtol: Double
  private let atol: Double
  private var count = 0
  private var finiteCount = 0
  private var maxAbs = 0.0
  private var maxIndex: Int?
  private var aAtMax: Double?
  private var bAtMax: Double?
  private var sumAbs = CompensatedSum()
  private var sumSquaredDifference = CompensatedSum()
  private var sumSquaredA = CompensatedSum()
  private var sumSquaredB = CompensatedSum()
  private var sumProduct = CompensatedSum()
  private var beyond = 0
  private var firstBeyond: Int?
  private var nonFinite = 0

  /// Starts an empty accumulation with the given tolerances (both ≥ 0).
  package init(relativeTolerance: Double, absoluteTolerance: Double) {
    rtol = relativeTolerance
    atol = absoluteTolerance
  }

  /// Adds a block: `a[i]` and `b[i]` are the elements at flat index `startIndex + i`.
  /// Only the first `min(a.count, b.count)` positions are used.
  package mutating func add(a: UnsafeBufferPointer<Double>, b: UnsafeBufferPointer<Double>, startIndex: Int) {
    let n = min(a.count, b.count)
    var blockAbs = 0.0
    var blockSquaredDifference = 0.0
    var blockSquaredA = 0.0
    var blockSquaredB = 0.0
    var blockProduct = 0.0
    var blockFinite = 0
    for i in 0..<n {
      let x = a[i]
      let y = b[i]
      if x.isFinite && y.isFinite {
        let difference = abs(x - y)
        blockFinite += 1
        blockAbs += difference
        blockSquaredDifference += difference * difference
        blockSquaredA += x * x
        blockSquaredB += y * y
        blockProduct += x * y
        if difference > maxAbs {
          maxAbs = difference
          maxIndex = startIndex + i
          aAtMax = x
          bAtMax = y
        }
        if difference > atol + rtol * abs(y) {
          beyond += 1
          if firstBeyond == nil { firstBeyond = startIndex + i }
        }
      } else if !((x.isNaN && y.isNaN) || x == y) {
        nonFinite += 1
        beyond += 1
        if firstBeyond == nil { firstBeyond = startIndex + i }
      }
    }
    count += n
    finiteCount += blockFinite
    sumAbs.add(blockAbs)
    sumSquaredDifference.add(blockSquaredDifference)
    sumSquaredA.add(blockSquaredA)
    sumSquaredB.add(blockSquaredB)
    sumProduct.add(blockProduct)
  }

  /// The statistics of everything added so far.
  package var result: ValueStatistics {
    let normA = sumSquaredA.value.squareRoot()
    let normB = sumSquaredB.value.squareRoot()
    let normDifference = sumSquaredDifference.value.squareRoot()
    let relative: Double? = normA > 0 ? normDifference / normA : (normDifference == 0 ? 0 : nil)
    let cosine: Double?
    if normA > 0 && normB > 0 {
      // Rounding can push the ratio a hair past ±1.
      cosine = min(1, max(-1, sumProduct.value / (normA * normB)))
    } else {
      cosine = normA == 0 && normB == 0 ? 1 : nil
    }
    return ValueStatistics(
      elementCount: count, maxAbsDifference: maxAbs, maxAbsDifferenceIndex: maxIndex,
      aAtMax: aAtMax, bAtMax: bAtMax,
      meanAbsDifference: finiteCount > 0 ? sumAbs.value / Double(finiteCount) : 0,
      relativeL2: relative, cosineSimilarity: cosine, beyondTolerance: beyond,
      firstBeyondToleranceIndex: firstBeyond, nonFiniteMismatches: nonFinite,
      relativeTolerance: rtol, absoluteTolerance: atol)
  }
}

/// Neumaier's compensated sum of doubles.
struct CompensatedSum: Sendable {
  private var sum = 0.0
  private var compensation = 0.0

  mutating func add(_ value: Double) {
    let total = sum + value
    if abs(sum) >= abs(value) {
      compensation += (sum - total) + value
    } else {
      compensation += (value - total) + sum
    }
    sum = total
  }

  var value: Double { sum + compensation }
}
