import Inspect

/// `dtype.consistency`: float weights share one dtype, the one the config declares
/// (`torch_dtype`, or `dtype` with transformers ≥ 4.56). Header only.
enum DTypeChecks {
  static func check(_ run: VerificationRun) {
    run.ran(.dtypeConsistency)
    var counts: [DType: Int] = [:]
    for tensor in run.view.tensors where tensor.dtype.isFloatingPoint {
      counts[tensor.dtype, default: 0] += 1
    }
    guard !counts.isEmpty else { return }
    let ranked = counts.sorted { ($0.value, $1.key.rawValue) > ($1.value, $0.key.rawValue) }
    let summary = ranked.map { "\($0.key.rawValue) ×\($0.value)" }.joined(separator: ", ")
    if ranked.count > 1 {
      let odd = run.view.tensors.first { $0.dtype.isFloatingPoint && $0.dtype != ranked[0].key }
      run.report(
        .dtypeConsistency, .warning, tensor: odd?.name, expected: "one float dtype", found: summary,
        "float tensors: expected one dtype, found \(summary)"
          + (odd.map { " (e.g. '\($0.name)' is \($0.dtype.rawValue))" } ?? ""))
    }
    let dominant = ranked[0].key
    for key in ["torch_dtype", "dtype"] {
      guard let declared = run.config?[key]?.stringValue else { continue }
      guard let declaredType = DType(torchName: declared) else {
        run.report(
          .dtypeConsistency, .warning, key: key, expected: "a torch dtype name", found: declared,
          "\(key): expected a torch dtype name such as bfloat16, found '\(declared)'")
        break
      }
      if ranked.count == 1 && declaredType != dominant {
        run.report(
          .dtypeConsistency, .warning, key: key, expected: dominant.torchName, found: declared,
          "\(key): expected '\(dominant.torchName)' (the dtype of every float tensor), found '\(declared)'")
      }
      break
    }
  }
}
