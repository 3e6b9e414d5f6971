import Inspect
import Validate

/// Runs the full `verify` on a freshly written conversion before it is moved into place
/// (`convert --validate-device`).
enum OutputValidator {
  /// Re-opens `directory` with the ordinary reader and verifies it against the verifier's
  /// config, the manifest written with it (every file and tensor digest), and a content scan.
  ///
  /// - Parameter displayDirectory: the output path the user gave; errors name files under it,
  ///   not under the temporary directory (which is gone by the time they are read).
  /// - Parameter progress: receives `validating` updates (bytes read of bytes to read).
  /// - Returns: one line per thing checked (for the JSON report) and the verify report.
  /// - Throws: ``ConversionError`` (`.refused`) naming the first error finding.
  static func validate(
    directory: String, displayDirectory: String, verifier: String, open: CheckpointOpener,
    progress: ProgressHandler? = nil
  ) throws -> (checks: [String], report: VerifyReport) {
    let checkpoint = try open(directory)
    let options = VerifyOptions(
      verifier: verifier, manifest: .file(directory + "/" + AuditManifest.fileName), scanContent: true)
    let validating = progress.map { handler in
      { @Sendable (update: ProgressUpdate) in
        var renamed = update
        renamed.task = "validating"
        handler(renamed)
      }
    }
    var report = try Verifier.verify(checkpoint: checkpoint, options: options, progress: validating)
    // Reported under the output path: the temporary directory is renamed or removed next.
    func shown(_ text: String) -> String { text.replacing(directory, with: displayDirectory) }
    report.location = displayDirectory
    report.manifest = report.manifest.map(shown)
    for index in report.findings.indices {
      report.findings[index].message = shown(report.findings[index].message)
      report.findings[index].file = report.findings[index].file.map(shown)
    }
    // Whether vLLM serves the output is the conversion report's `serving` verdict (and its
    // warnings), not a fault of the conversion: it does not stop the output from being written.
    if let first = report.findings.first(where: {
      $0.severity == .error && !CheckCatalogue.servingChecks.contains($0.check)
    }) {
      throw ConversionError(
        .refused,
        file: first.file.map { $0.hasPrefix("/") ? shown($0) : displayDirectory + "/" + $0 } ?? displayDirectory,
        tensor: first.tensor,
        reason: "verify found \(report.errorCount) error(s), nothing was written; first: [\(first.check)] "
          + shown(first.message))
    }
    let checks = [
      "re-opened the output: \(checkpoint.tensors.count) tensors in \(checkpoint.weightFiles.count) file(s)",
      "verify: \(report.checksRun.count) checks run, \(report.passed.count) passed, "
        + "\(report.warningCount) warning(s), \(report.skipped.count) skipped",
      "passed: " + report.passed.map(\.rawValue).joined(separator: ", "),
    ] + report.findings.map { "\($0.severity == .error ? "vLLM" : "warning") [\($0.check)]: \($0.message)" }
    return (checks, report)
  }

  /// Runs verify's header checks (config, tensor names, shapes and dtypes, verifier fit) on the
  /// output a conversion is about to write, before anything is written: the planned
  /// `config.json` and tensor list stand in for the files. These are the checks `verify` runs
  /// on the written output, not a copy of them.
  ///
  /// - Throws: ``ConversionError`` (`.refused`) naming the first error finding.
  static func checkPlan(
    config: JSONValue, tensors: [SafetensorsWriter.Entry], outputPath: String, verifier: String
  ) throws {
    let file = "model.safetensors"
    var offset = 0
    var planned: [TensorInfo] = []
    for entry in tensors {
      let length = checkedByteCount(shape: entry.shape, dtype: entry.dtype) ?? 0
      planned.append(
        TensorInfo(
          name: entry.name, dtype: entry.dtype, shape: entry.shape, file: outputPath + "/" + file,
          layout: .contiguous(offset: offset, length: length)))
      offset = offset.addingReportingOverflow(length).partialValue
    }
    let checkpoint = Checkpoint(
      location: outputPath, directory: outputPath,
      files: [CheckpointFile(path: outputPath + "/" + file, name: file, size: offset, kind: .safetensors)],
      config: config, tensors: planned)
    var report = try Verifier.verify(checkpoint: checkpoint, options: VerifyOptions(verifier: verifier))
    // Whether vLLM serves the output (its type, its default taps) is the conversion report's
    // `serving` verdict and its warnings, not a structural defect of this output.
    report.findings.removeAll { CheckCatalogue.servingChecks.contains($0.check) }
    try refuseErrors(report, directory: outputPath, what: "the output would fail verify:")
  }

  /// Throws the first error finding of `report`, with the error count.
  private static func refuseErrors(_ report: VerifyReport, directory: String, what: String)
    throws
  {
    let errors = report.findings.filter { $0.severity == .error }
    guard let first = errors.first else { return }
    throw ConversionError(
      .refused, file: first.file ?? directory, tensor: first.tensor,
      reason: "\(what) \(errors.count) error(s); first: [\(first.check)] \(first.message)")
  }
}
