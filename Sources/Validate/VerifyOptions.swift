import Probe

/// What `verify` checks beyond the header and config checks, which always run.
public struct VerifyOptions: Sendable, Hashable {
  /// Where the audit manifest comes from.
  public enum ManifestSource: Sendable, Hashable {
    /// Do not check a manifest.
    case none
    /// `speculators-manifest.json` in the checkpoint directory.
    case checkpointDirectory
    /// A manifest at this path.
    case file(String)
  }

  /// The verifier: a directory holding its `config.json` (and weights, for embedding
  /// comparisons), or a `config.json` path. When `nil`, the verifier named in
  /// `speculators_config.verifier.name_or_path` is used if it is a local path.
  public var verifier: String?
  /// The manifest to re-hash and compare against.
  public var manifest: ManifestSource
  /// Whether to read tensor bytes: NaN/Inf scan, vocabulary map values, "looks uninitialised"
  /// statistics, embedding comparison with the verifier.
  public var scanContent: Bool
  /// Decode the draft against the verifier's weights with these options (`--probe`); `nil`
  /// skips the probe checks.
  public var probe: ProbeOptions?
  /// The directory relative paths are resolved against (the process's working directory when
  /// `nil`).
  public var workingDirectory: String?

  /// Creates options. The defaults run header and config checks only.
  public init(
    verifier: String? = nil, manifest: ManifestSource = .none, scanContent: Bool = false,
    probe: ProbeOptions? = nil, workingDirectory: String? = nil
  ) {
    self.probe = probe
    self.verifier = verifier
    self.manifest = manifest
    self.scanContent = scanContent
    self.workingDirectory = workingDirectory
  }
}
