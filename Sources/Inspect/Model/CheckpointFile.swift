/// What a file in a checkpoint is.
public enum CheckpointFileKind: String, Sendable, Codable, Hashable {
  /// A safetensors weights file.
  case safetensors
  /// A PyTorch `torch.save` zip archive (`pytorch_model.bin`, `.pt`, `.pth`).
  case torchZip = "torch-zip"
  /// A sharded-checkpoint index (`*.safetensors.index.json`, `*.bin.index.json`).
  case index
  /// `config.json`.
  case config
  /// `generation_config.json` (read by nothing here, listed for completeness).
  case generationConfig = "generation-config"
  /// `speculators-manifest.json`, the audit manifest this tool writes.
  case manifest
  /// Anything else in the directory.
  case other
}

/// One file that belongs to a checkpoint.
public struct CheckpointFile: Sendable, Hashable {
  /// The full path to the file.
  public var path: String
  /// The path relative to the checkpoint directory (the file name for single files).
  public var name: String
  /// Size in bytes.
  public var size: Int
  /// What the file is.
  public var kind: CheckpointFileKind

  /// Creates a file entry.
  package init(path: String, name: String, size: Int, kind: CheckpointFileKind) {
    self.path = path
    self.name = name
    self.size = size
    self.kind = kind
  }
}
