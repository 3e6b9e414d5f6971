import Inspect

/// Checks over tensor values (`--content`): NaN/Inf anywhere, and tensors that look never
/// loaded (all-ones norms, all-zero weights, statistics of a fresh initialisation).
enum ContentChecks {
  static let ids: [CheckID] = [.contentNaNInf, .contentUninitialised]

  /// Smallest tensor whose statistics are judged against initialisation distributions.
  static let minimumElementsForStatistics = 1024

  /// The tensors the checks read: every decodable float tensor of the view.
  static func tensors(_ run: VerificationRun) -> [TensorInfo] {
    run.view.tensors.filter { ElementCodec.floatTypes.contains($0.dtype) }
  }

  /// Judges every decodable float tensor from its statistics in `scan`. Tensors in
  /// `matchingVerifier` (equal to the verifier's copy) are not judged as "looks uninitialised".
  static func check(_ run: VerificationRun, scan: TensorScan, matchingVerifier: Set<String> = [])
    throws(CheckpointError)
  {
    let floats = tensors(run)
    var statistics: [TensorStatistics?] = Array(repeating: nil, count: floats.count)
    for index in TensorScan.largestFirst(floats.map(\.byteCount)) {
      statistics[index] = try scan.statistics(of: floats[index])
    }
    run.ran(ids)
    let range = initializerRange(run)
    for (tensor, stats) in zip(floats, statistics.compactMap { $0 }) {
      if stats.nanCount > 0 || stats.infCount > 0 {
        let found = "\(stats.nanCount) NaN, \(stats.infCount) Inf"
        run.report(
          .contentNaNInf, .error, tensor: tensor.name, expected: "finite values", found: found,
          "tensor '\(tensor.name)': expected finite values, found \(found) of \(stats.count) "
            + "(first at flat index \(stats.firstNonFinite ?? 0))")
        continue
      }
      if !matchingVerifier.contains(tensor.name),
        let reason = uninitialisedReason(tensor, stats, initializerRange: range)
      {
        run.report(
          .contentUninitialised, .warning, tensor: tensor.name, expected: "trained values",
          found: reason.found, "tensor '\(tensor.name)': expected trained values, found \(reason.message)")
      }
    }
  }

  /// `initializer_range` of the layer config (Speculators) or the config, default 0.02.
  static func initializerRange(_ run: VerificationRun) -> Double {
    run.model?.layer?.value("initializer_range")?.doubleValue
      ?? run.model?.value("initializer_range")?.doubleValue ?? 0.02
  }

  /// Why a tensor looks never loaded, or `nil`.
  static func uninitialisedReason(
    _ tensor: TensorInfo, _ stats: TensorStatistics, initializerRange range: Double
  ) -> (found: String, message: String)? {
    let n = stats.count
    guard n > 1 else { return nil }
    let modules = tensor.name.split(separator: ".").dropLast()
    if modules.contains(where: { $0.contains("norm") }) && tensor.shape.count == 1 && stats.onesCount == n {
      return (
        "all \(n) values 1.0",
        "all \(n) values exactly 1.0 (the RMSNorm initial value: the weight was probably never loaded)"
      )
    }
    if stats.zerosCount == n {
      return ("all \(n) values 0", "all \(n) values exactly 0 (never trained or never loaded)")
    }
    guard tensor.shape.count == 2, n >= minimumElementsForStatistics else { return nil }
    let std = stats.standardDeviation
    let mean = stats.mean
    let kurtosis = stats.kurtosis
    let summary = "mean \(short(mean)), std \(short(std)), kurtosis \(short(kurtosis))"
    if range > 0, abs(mean) <= 0.05 * std, abs(std - range) <= 0.03 * range, (2.8...3.2).contains(kurtosis) {
      return (
        summary,
        "\(summary), matching a fresh normal(0, \(short(range))) initialisation (initializer_range): "
          + "the weight was probably never loaded"
      )
    }
    let fanIn = Double(tensor.shape[1])
    let bound = 1 / fanIn.squareRoot()
    let uniformStd = bound / 3.0.squareRoot()
    if Double(stats.maxAbs) <= bound * 1.0001, abs(std - uniformStd) <= 0.03 * uniformStd,
      (1.7...1.9).contains(kurtosis)
    {
      return (
        summary,
        "\(summary), matching nn.Linear's default U(-1/√\(tensor.shape[1]), 1/√\(tensor.shape[1])) "
          + "initialisation: the weight was probably never loaded"
      )
    }
    return nil
  }

  private static func short(_ value: Double) -> String {
    let scaled = (value * 10000).rounded() / 10000
    return "\(scaled)"
  }
}
