/// The whole-file digest `speculators hash` prints per file.
///
/// SHA-256 is the audit digest (what `sha256sum` prints and what the manifest records); XXH3-128
/// is several times faster and equals what `xxhsum -H2` prints, for quick integrity checks.
/// Both are written as `<hex>  <name>` lines, which `sha256sum -c` and `xxhsum -c` accept.
public enum FileDigestAlgorithm: String, Sendable, CaseIterable {
  /// SHA-256, 64 lowercase hex digits.
  case sha256
  /// XXH3-128 (seed 0), 32 lowercase hex digits in canonical (big-endian) order.
  case xxh3

  /// The JSON key that holds this digest in reports: `sha256` or `xxh3_128`.
  public var jsonKey: String {
    switch self {
    case .sha256: "sha256"
    case .xxh3: "xxh3_128"
    }
  }

  /// The command that checks lines of this digest: `sha256sum` or `xxhsum`.
  public var checkCommand: String {
    switch self {
    case .sha256: "sha256sum"
    case .xxh3: "xxhsum"
    }
  }
}
