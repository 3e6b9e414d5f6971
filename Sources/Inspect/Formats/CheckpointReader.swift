/// Opens checkpoints: a directory, a single weights file, or a sharded index.
public enum CheckpointReader {
  /// Opens the checkpoint at `path`, reading headers only.
  public static func open(_ path: String) throws(CheckpointError) -> Checkpoint {
    throw CheckpointError(.unsupported, file: path, reason: "checkpoint reading is not built yet")
  }
}
