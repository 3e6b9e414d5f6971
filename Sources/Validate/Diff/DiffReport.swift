import Inspect

/// Everything `speculators diff` found when comparing checkpoint (or manifest) A with B.
///
/// ``json()`` is the `--json` document (schema: `schemas/diff-report.schema.json`);
/// the executable renders it for the terminal; ``result`` decides the exit status.
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

  /// One line: the verdict and the counts behind it, e.g.
  /// `different: config 1 difference; tensors 11 identical, 1 differs, 1 only in B`.
  package var summaryLine: String {
    var sections: [String] = []
    func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)" + (n == 1 ? "" : "s") }
    func section(_ label: String, _ differences: [ConfigDifference]) {
      guard !differences.isEmpty else { return }
      let volatile = differences.filter(\.isVolatile).count
      sections.append(
        "\(label) " + count(differences.count, "difference") + (volatile > 0 ? " (\(volatile) volatile)" : ""))
    }
    section("config", configDifferences)
    section("metadata", metadataDifferences)
    section("manifest", manifestDifferences)
    if !fileDifferences.isEmpty {
      let counting = fileDifferences.filter(\.isDifference).count
      sections.append(
        "files " + count(fileDifferences.count, "difference")
          + (counting < fileDifferences.count ? " (\(fileDifferences.count - counting) not counted)" : ""))
    }
    let counts = statusCounts
    let parts = TensorComparison.Status.allCases.compactMap { status -> String? in
      guard let n = counts[status], n > 0 else { return nil }
      return "\(n) \(Self.phrase(for: status, count: n))"
    }
    sections.append("tensors " + (parts.isEmpty ? "none" : parts.joined(separator: ", ")))
    let dtype = dtypeChanges
    if dtype > 0 { sections.append(count(dtype, "dtype change")) }
    return "\(result.rawValue): " + sections.joined(separator: "; ")
  }

  /// How a status reads after a count ("3 identical", "1 differs", "2 only in A").
  package static func phrase(for status: TensorComparison.Status, count: Int) -> String {
    switch status {
    case .identical: return "identical"
    case .equalValues: return "equal in value"
    case .withinTolerance: return "within tolerance"
    case .different: return count == 1 ? "differs" : "differ"
    case .shapeChanged: return "shape changed"
    case .bytesNotRead: return "same dtype and shape (bytes not read)"
    case .notComparable: return "not comparable"
    case .onlyInA: return "only in A"
    case .onlyInB: return "only in B"
    case .dropped: return "dropped by the conversion"
    case .added: return "added by the conversion"
    }
  }

  /// The `--json` document.
  public func json() -> JSONValue {
    let counts = statusCounts
    return .object([
      ("diff_report_version", 1),
      ("tool", .object([("name", .string(ToolInfo.name)), ("version", .string(ToolInfo.version))])),
      ("a", Self.json(a)),
      ("b", Self.json(b)),
      (
        "options",
        .object([
          ("values", .bool(options.compareValues)), ("rtol", Self.number(options.relativeTolerance)),
          ("atol", Self.number(options.absoluteTolerance)), ("mapping", .string(options.mapping.rawValue)),
          ("structure_only", .bool(options.structureOnly)),
        ])
      ),
      (
        "mapping",
        .object([
          ("applied", .bool(mapping.applied)), ("algorithm", Self.optional(mapping.algorithm)),
          ("source_side", Self.optional(mapping.sourceSide)), ("basis", Self.optional(mapping.basis)),
          ("description", .string(mapping.description)),
        ])
      ),
      (
        "config",
        .object([
          ("compared", .bool(configNote == nil)), ("note", Self.optional(configNote)),
          ("differences", .array(configDifferences.map(Self.json))),
        ])
      ),
      ("metadata", .object([("differences", .array(metadataDifferences.map(Self.json)))])),
      ("manifest", .object([("differences", .array(manifestDifferences.map(Self.json)))])),
      ("files", .array(fileDifferences.map(Self.json))),
      ("tensors", .array(tensors.map(Self.json))),
      (
        "summary",
        .object([
          ("result", .string(result.rawValue)),
          ("exit_status", .int(Int64(exitStatus))),
          ("line", .string(summaryLine)),
          (
            "tensor_counts",
            .object(TensorComparison.Status.allCases.map { ($0.rawValue, .int(Int64(counts[$0] ?? 0))) })
          ),
          ("dtype_changes", .int(Int64(dtypeChanges))),
          ("config_differences", .int(Int64(configDifferences.count))),
          ("volatile_config_differences", .int(Int64(configDifferences.filter(\.isVolatile).count))),
          ("metadata_differences", .int(Int64(metadataDifferences.count))),
          ("manifest_differences", .int(Int64(manifestDifferences.count))),
          ("file_differences", .int(Int64(fileDifferences.count))),
        ])
      ),
    ])
  }

  private static func json(_ side: SideSummary) -> JSONValue {
    .object([
      ("path", .string(side.path)), ("kind", .string(side.kind)),
      ("speculators_algorithm", optional(side.speculatorsAlgorithm)),
      ("tensor_count", .int(Int64(side.tensorCount))), ("tensor_bytes", .int(Int64(side.tensorBytes))),
      ("file_count", .int(Int64(side.fileCount))),
    ])
  }

  private static func json(_ difference: ConfigDifference) -> JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("path", .string(difference.path)), ("change", .string(difference.change.rawValue)),
    ]
    if let a = difference.a { members.append(("a", a)) }
    if let b = difference.b { members.append(("b", b)) }
    members.append(("volatile", .bool(difference.isVolatile)))
    return .object(members)
  }

  private static func json(_ difference: FileDifference) -> JSONValue {
    .object([
      ("name", .string(difference.name)), ("change", .string(difference.change.rawValue)),
      ("a_size", difference.aSize.map { .int(Int64($0)) } ?? .null),
      ("b_size", difference.bSize.map { .int(Int64($0)) } ?? .null),
      ("a_sha256", optional(difference.aSHA256)), ("b_sha256", optional(difference.bSHA256)),
      ("counts", .bool(difference.isDifference)), ("note", optional(difference.note)),
    ])
  }

  private static func json(_ comparison: TensorComparison) -> JSONValue {
    func side(_ side: TensorComparison.Side?) -> JSONValue {
      guard let side else { return .null }
      return .object([
        ("name", .string(side.name)), ("dtype", .string(side.dtype.rawValue)),
        ("shape", .array(side.shape.map { .int(Int64($0)) })), ("file", .string(side.file)),
        ("xxh3_128", optional(side.digest)),
      ])
    }
    let shape = comparison.a?.shape ?? comparison.b?.shape ?? []
    return .object([
      ("name", .string(comparison.name)), ("status", .string(comparison.status.rawValue)),
      ("a", side(comparison.a)), ("b", side(comparison.b)),
      ("statistics", comparison.statistics.map { json($0, shape: shape) } ?? .null),
      ("note", optional(comparison.note)),
    ])
  }

  private static func json(_ statistics: ValueStatistics, shape: [Int]) -> JSONValue {
    func index(_ flat: Int?) -> JSONValue {
      flat.map { .array(unravel($0, shape: shape).map { .int(Int64($0)) }) } ?? .null
    }
    return .object([
      ("element_count", .int(Int64(statistics.elementCount))),
      ("max_abs_diff", number(statistics.maxAbsDifference)),
      ("max_abs_diff_index", index(statistics.maxAbsDifferenceIndex)),
      ("max_abs_diff_flat_index", statistics.maxAbsDifferenceIndex.map { .int(Int64($0)) } ?? .null),
      ("a_at_max", statistics.aAtMax.map(number) ?? .null),
      ("b_at_max", statistics.bAtMax.map(number) ?? .null),
      ("mean_abs_diff", number(statistics.meanAbsDifference)),
      ("relative_l2", statistics.relativeL2.map(number) ?? .null),
      ("cosine_similarity", statistics.cosineSimilarity.map(number) ?? .null),
      ("beyond_tolerance", .int(Int64(statistics.beyondTolerance))),
      ("first_beyond_tolerance_index", index(statistics.firstBeyondToleranceIndex)),
      ("nonfinite_mismatches", .int(Int64(statistics.nonFiniteMismatches))),
      ("rtol", number(statistics.relativeTolerance)),
      ("atol", number(statistics.absoluteTolerance)),
    ])
  }

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

  /// A JSON number, or `null` for a value JSON cannot hold (NaN, infinities).
  private static func number(_ value: Double) -> JSONValue {
    value.isFinite ? .double(value) : .null
  }

  private static func optional(_ value: String?) -> JSONValue {
    value.map(JSONValue.string) ?? .null
  }
}
