import Inspect

/// Everything `speculators diff` found when comparing checkpoint (or manifest) A with B.
///
/// The executable renders it for the terminal and as the `--json` document (schema:
/// `schemas/diff-report.schema.json`); ``result`` decides the exit status.
public struct DiffReport: Sendable {
  /// The overall verdict.
  public enum Result: String, Sendable {
    /// Nothing differs but volatile keys (tool versions, invocation paths), which are listed.
    case identical
    /// Only things that do not count differ: a config's formatting, the size of a weights file
    /// whose tensors and metadata are all equal, tensors the conversion drops or adds by its
    /// rules, or (with `--values`) tensors equal in value within tolerance.
    case equal
    /// Something that counts differs.
    case different
  }

  /// What one side is.
  public struct SideSummary: Sendable, Equatable {
    /// The path as given.
    public var path: String
    /// `checkpoint` or `manifest`.
    public var kind: String
    /// The Speculators algorithm, when the side is a Speculators conversion or its manifest.
    public var speculatorsAlgorithm: String?
    /// Number of tensors.
    public var tensorCount: Int
    /// Total bytes of tensor data.
    public var tensorBytes: Int
    /// Number of files.
    public var fileCount: Int
  }

  /// How tensors were paired.
  public struct MappingSummary: Sendable, Equatable {
    /// Whether conversion renames were applied.
    public var applied: Bool
    /// The conversion's algorithm, when applied.
    public var algorithm: String?
    /// The side holding the source draft (`a` or `b`), when applied.
    public var sourceSide: String?
    /// `rules` (the converter's renaming rules) or `manifest` (the renames an audit manifest
    /// recorded), when applied.
    public var basis: String?
    /// One line for the report.
    public var description: String
  }

  /// A's summary.
  public var a: SideSummary
  /// B's summary.
  public var b: SideSummary
  /// The options used.
  public var options: DiffOptions
  /// How tensors were paired.
  public var mapping: MappingSummary
  /// Why configs were not compared (a manifest side has none), or `nil` when they were.
  public var configNote: String?
  /// `config.json` differences.
  public var configDifferences: [ConfigDifference]
  /// safetensors `__metadata__` differences (paths start with the file name).
  public var metadataDifferences: [ConfigDifference]
  /// Differences between the conversion records of two audit manifests (``ManifestRecord``:
  /// options, source, verifier, provenance, drops; invocation paths and the tool version are
  /// volatile).
  public var manifestDifferences: [ConfigDifference]
  /// File differences.
  public var fileDifferences: [FileDifference]
  /// One entry per tensor of either side, sorted by name.
  public var tensors: [TensorComparison]

  /// The number of tensor comparisons with each status.
  public var statusCounts: [TensorComparison.Status: Int] {
    var counts: [TensorComparison.Status: Int] = [:]
    for tensor in tensors { counts[tensor.status, default: 0] += 1 }
    return counts
  }

  /// Tensor pairs whose dtypes differ.
  public var dtypeChanges: Int {
    tensors.filter { $0.a != nil && $0.b != nil && $0.a?.dtype != $0.b?.dtype }.count
  }

  /// The overall verdict.
  public var result: Result {
    let counting =
      configDifferences.contains { !$0.isVolatile } || manifestDifferences.contains { !$0.isVolatile }
      || !metadataDifferences.isEmpty || fileDifferences.contains(where: \.isDifference)
      || tensors.contains { $0.isDifference(comparingValues: options.compareValues) }
    if counting { return .different }
    let anything = !fileDifferences.isEmpty || tensors.contains { $0.status != .identical }
    return anything ? .equal : .identical
  }

  /// Whether the checkpoints differ (exit status 1).
  public var hasDifferences: Bool { result == .different }

  /// The exit status for this report: 0 identical or equal, 1 different.
  public var exitStatus: Int32 { hasDifferences ? 1 : 0 }

  /// The multi-dimensional (C-order) index of flat index `flat` in `shape`.
  package static func unravel(_ flat: Int, shape: [Int]) -> [Int] {
    var remainder = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
      index[axis] = remainder % shape[axis]
      remainder /= shape[axis]
    }
    return index
  }
}
