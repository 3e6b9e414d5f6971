import CTensorStatistics
import Inspect

/// Value statistics of one float tensor, gathered in a single streaming pass: NaN/Inf counts
/// for `content.nan-inf` and moments for `content.uninitialised`.
///
/// F16, BF16 and F32 runs are summarised a block at a time by the CTensorStatistics kernels
/// (AVX2 where the CPU has it); the other dtypes go element by element through
/// ``add(_:at:)``. Both give the same counts, first index and maximum; the sums, kept in double
/// precision, differ only by the order in which the same terms were added.
struct TensorStatistics: Sendable {
  var count = 0
  var nanCount = 0
  var infCount = 0
  var firstNonFinite: Int?
  var onesCount = 0
  var zerosCount = 0
  var maxAbs: Float = 0
  var sum: Double = 0
  var sumSquares: Double = 0
  var sumFourth: Double = 0

  /// Streams `tensor` through `reader` and accumulates its statistics.
  static func compute(
    _ tensor: TensorInfo, reader: TensorReader, progress: ProgressCounter? = nil
  ) throws(CheckpointError) -> TensorStatistics {
    var stats = TensorStatistics()
    let dtype = tensor.dtype
    do {
      try reader.forEachChunk(of: tensor) { chunk in
        stats.add(chunk, dtype: dtype)
        progress?.advance(by: chunk.count)
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
    return stats
  }

  /// Accumulates `bytes`, a whole number of `dtype` elements that follow the ones already
  /// counted.
  mutating func add(_ bytes: UnsafeRawBufferPointer, dtype: DType) {
    guard let kernel = Kernel(dtype) else {
      ElementCodec.forEachFloat(bytes, as: dtype, start: count) { value, position in
        add(value, at: position)
      }
      return
    }
    let elements = bytes.count / kernel.elementSize
    guard elements > 0, let base = bytes.baseAddress else { return }
    merge(kernel.summarise(base, count: elements, vectorised: Self.vectorised), elements: elements)
  }

  /// Whether the AVX2 kernels run on this CPU, checked once.
  static let vectorised = speculators_moments_vector_available() != 0

  /// The block kernels, one per dtype they summarise.
  enum Kernel {
    case f16, bf16, f32

    init?(_ dtype: DType) {
      switch dtype {
      case .F16: self = .f16
      case .BF16: self = .bf16
      case .F32: self = .f32
      default: return nil
      }
    }

    var elementSize: Int { self == .f32 ? 4 : 2 }

    /// The summary of `count` elements at `base`, by the AVX2 or the portable kernel.
    func summarise(_ base: UnsafeRawPointer, count: Int, vectorised: Bool) -> speculators_moments {
      var block = speculators_moments()
      switch (self, vectorised) {
      case (.f16, true): speculators_moments_f16_vector(base, count, &block)
      case (.f16, false): speculators_moments_f16_portable(base, count, &block)
      case (.bf16, true): speculators_moments_bf16_vector(base, count, &block)
      case (.bf16, false): speculators_moments_bf16_portable(base, count, &block)
      case (.f32, true): speculators_moments_f32_vector(base, count, &block)
      case (.f32, false): speculators_moments_f32_portable(base, count, &block)
      }
      return block
    }
  }

  /// Adds a kernel's summary of the next `elements` elements.
  mutating func merge(_ block: speculators_moments, elements: Int) {
    if firstNonFinite == nil, block.first_non_finite >= 0 {
      firstNonFinite = count + Int(block.first_non_finite)
    }
    count += elements
    nanCount += Int(block.nan_count)
    infCount += Int(block.inf_count)
    onesCount += Int(block.ones)
    zerosCount += Int(block.zeros)
    maxAbs = max(maxAbs, block.max_abs)
    sum += block.sum
    sumSquares += block.sum_squares
    sumFourth += block.sum_fourth
  }

  /// Accumulates one element (the reference the block kernels agree with).
  @inline(__always)
  mutating func add(_ value: Float, at index: Int) {
    count += 1
    guard value.isFinite else {
      if value.isNaN { nanCount += 1 } else { infCount += 1 }
      if firstNonFinite == nil { firstNonFinite = index }
      return
    }
    if value == 1 { onesCount += 1 }
    if value == 0 { zerosCount += 1 }
    maxAbs = max(maxAbs, abs(value))
    let x = Double(value)
    let square = x * x
    sum += x
    sumSquares += square
    sumFourth += square * square
  }

  /// Finite values counted.
  var finiteCount: Int { count - nanCount - infCount }

  /// The mean of the finite values.
  var mean: Double { finiteCount > 0 ? sum / Double(finiteCount) : 0 }

  /// The population standard deviation of the finite values.
  var standardDeviation: Double {
    guard finiteCount > 0 else { return 0 }
    let n = Double(finiteCount)
    return (max(0, sumSquares / n - mean * mean)).squareRoot()
  }

  /// The kurtosis E[x⁴]/E[x²]² about zero (3 for a centred normal, 1.8 for a centred uniform).
  var kurtosis: Double {
    guard finiteCount > 0, sumSquares > 0 else { return 0 }
    let n = Double(finiteCount)
    let second = sumSquares / n
    return (sumFourth / n) / (second * second)
  }
}
