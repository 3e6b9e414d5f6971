/// The library entry point behind `speculators inspect`.
public enum Inspector {
  /// Opens the checkpoint at `path` (a directory, a weights file or an index) reading headers
  /// only, and reports its files, config summary, detected source format, tensors and totals.
  ///
  /// - Throws: ``CheckpointError`` from ``CheckpointReader/open(_:)``.
  public static func inspect(path: String) throws(CheckpointError) -> InspectReport {
    report(for: try CheckpointReader.open(path))
  }

  /// The report of an already opened checkpoint.
  public static func report(for checkpoint: Checkpoint) -> InspectReport {
    InspectReport(checkpoint: checkpoint)
  }
}
