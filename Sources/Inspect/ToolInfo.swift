/// Facts about this tool, recorded in manifests and printed by `--version`.
public enum ToolInfo {
  /// The tool's name.
  public static let name = "speculators"
  /// The tool's version (semantic versioning).
  public static let version = "0.1.0"
}
