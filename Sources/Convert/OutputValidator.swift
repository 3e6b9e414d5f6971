import Inspect
import Validate

/// Runs the full `verify` on a freshly written conversion before it is moved into place
/// (`convert --validate-device`).
enum OutputValidator {
  /// Re-opens `directory` with the ordinary reader and verifies it against the verifier's
  /// config, the manifest written with it (every file and tensor digest), and a content scan.
  ///
  /// - Returns: one line per thing checked, for the conversion report.
  /// - Throws: ``CheckpointError`` (`.malformed`) naming the first error finding.
  static func validate(
    directory: String, verifier: String, open: CheckpointOpener
  ) throws(CheckpointError) -> [String] {
    let checkpoint = try open(directory)
    let options = VerifyOptions(
      verifier: verifier, manifest: .file(directory + "/" + AuditManifest.fileName), scanContent: true)
    let report = try Verifier.verify(checkpoint: checkpoint, options: options)
    // Whether vLLM serves the output is the conversion report's `serving` verdict (and its
    // warnings), not a fault of the conversion: it does not stop the output from being written.
    if let first = report.findings.first(where: {
      $0.severity == .error && !CheckCatalogue.servingChecks.contains($0.check)
    }) {
      throw CheckpointError(
        .malformed, file: first.file ?? directory, tensor: first.tensor,
        reason: "verify found \(report.errorCount) error(s); first: [\(first.check)] \(first.message)")
    }
    return [
      "re-opened the output: \(checkpoint.tensors.count) tensors in \(checkpoint.weightFiles.count) file(s)",
      "verify: \(report.checksRun.count) checks run, \(report.passed.count) passed, "
        + "\(report.warningCount) warning(s), \(report.skipped.count) skipped",
      "passed: " + report.passed.map(\.rawValue).joined(separator: ", "),
    ] + report.findings.map { "\($0.severity == .error ? "vLLM" : "warning") [\($0.check)]: \($0.message)" }
  }
}
