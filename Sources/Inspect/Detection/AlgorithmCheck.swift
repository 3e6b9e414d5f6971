extension Detection {
  /// Checks an algorithm the user asked for against what was detected.
  ///
  /// - Returns: `nil` when `algorithm` fits the detected layout, or when nothing was
  ///   recognised (there is no layout to contradict); otherwise a one-line reason, for example
  ///   `--algorithm eagle contradicts the detected layout eagle3-safeailab (midlayer.* tensors,
  ///   fc.weight [64, 192] = 3×hidden)`. `convert` refuses with this reason unless `--ignore-detection`.
  package func conflict(withRequested algorithm: ConversionAlgorithm) -> String? {
    switch conversion {
    case .algorithm(let implied):
      if implied == algorithm { return nil }
      return "--algorithm \(algorithm.rawValue) contradicts the detected layout \(format.rawValue) "
        + "(\(signature)); it converts with --algorithm \(implied.rawValue)"
    case .none(let reason):
      if format == .unknown { return nil }
      return "--algorithm \(algorithm.rawValue) contradicts the detected layout \(format.rawValue) "
        + "(\(signature)): \(reason)"
    }
  }
}
