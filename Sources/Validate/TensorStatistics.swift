import Inspect

/// Value statistics of one float tensor, gathered in a single streaming pass: NaN/Inf counts
/// for `content.nan-inf` and moments for `content.uninitialised`.
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
    _ tensor: TensorInfo, reader: TensorReader, progress: ByteProgress? = nil
  ) throws(CheckpointError) -> TensorStatistics {
    var stats = TensorStatistics()
    var index = 0
    let dtype = tensor.dtype
    let size = (dtype.bitsPerElement + 7) / 8
    do {
      try reader.forEachChunk(of: tensor) { chunk in
        FloatDecoding.forEach(chunk, dtype: dtype, start: index) { value, position in
          stats.add(value, at: position)
        }
        index += chunk.count / size
        progress?.advance(by: chunk.count)
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
    return stats
  }

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
