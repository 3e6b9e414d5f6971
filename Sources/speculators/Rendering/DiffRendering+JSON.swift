import Inspect
import Validate

extension DiffRendering {
  /// The `--json` document (`schemas/diff-report.schema.json`); `summary.line` is
  /// ``summaryLine(_:)``, the last line of the text.
  static func json(_ report: DiffReport) -> JSONValue {
    let counts = report.statusCounts
    let options = report.options
    let mapping = report.mapping
    return .object([
      ("diff_report_version", 1),
      ("tool", .object([("name", .string(ToolInfo.name)), ("version", .string(ToolInfo.version))])),
      ("a", json(report.a)),
      ("b", json(report.b)),
      (
        "options",
        .object([
          ("values", .bool(options.compareValues)), ("rtol", number(options.relativeTolerance)),
          ("atol", number(options.absoluteTolerance)), ("mapping", .string(options.mapping.rawValue)),
          ("structure_only", .bool(options.structureOnly)),
        ])
      ),
      (
        "mapping",
        .object([
          ("applied", .bool(mapping.applied)), ("algorithm", optional(mapping.algorithm)),
          ("source_side", optional(mapping.sourceSide)), ("basis", optional(mapping.basis)),
          ("description", .string(mapping.description)),
        ])
      ),
      (
        "config",
        .object([
          ("compared", .bool(report.configNote == nil)), ("note", optional(report.configNote)),
          ("differences", .array(report.configDifferences.map(json))),
        ])
      ),
      ("metadata", .object([("differences", .array(report.metadataDifferences.map(json)))])),
      ("manifest", .object([("differences", .array(report.manifestDifferences.map(json)))])),
      ("files", .array(report.fileDifferences.map(json))),
      ("tensors", .array(report.tensors.map(json))),
      (
        "summary",
        .object([
          ("result", .string(report.result.rawValue)),
          ("exit_status", .int(Int64(report.exitStatus))),
          ("line", .string(summaryLine(report))),
          (
            "tensor_counts",
            .object(TensorComparison.Status.allCases.map { ($0.rawValue, .int(Int64(counts[$0] ?? 0))) })
          ),
          ("dtype_changes", .int(Int64(report.dtypeChanges))),
          ("config_differences", .int(Int64(report.configDifferences.count))),
          ("volatile_config_differences", .int(Int64(report.configDifferences.filter(\.isVolatile).count))),
          ("metadata_differences", .int(Int64(report.metadataDifferences.count))),
          ("manifest_differences", .int(Int64(report.manifestDifferences.count))),
          ("file_differences", .int(Int64(report.fileDifferences.count))),
        ])
      ),
    ])
  }

  private static func json(_ side: DiffReport.SideSummary) -> JSONValue {
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
      flat.map { .array(DiffReport.unravel($0, shape: shape).map { .int(Int64($0)) }) } ?? .null
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

  /// A JSON number, or `null` for a value JSON cannot hold (NaN, infinities).
  private static func number(_ value: Double) -> JSONValue {
    value.isFinite ? .double(value) : .null
  }

  private static func optional(_ value: String?) -> JSONValue {
    value.map(JSONValue.string) ?? .null
  }
}
