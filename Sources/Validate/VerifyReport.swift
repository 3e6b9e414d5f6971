import Inspect

/// The outcome of `verify`: every finding, every check that ran, and every check that was
/// skipped with its reason.
public struct VerifyReport: Sendable {
  /// The verifier the compatibility checks used.
  public struct VerifierUsed: Sendable, Hashable {
    /// The path as given (option or config value).
    public var given: String
    /// The directory holding the verifier's `config.json`.
    public var directory: String
    /// Where it came from: `"option"` (`--verifier`) or `"config"`
    /// (`speculators_config.verifier.name_or_path`).
    public var source: String
  }

  /// The checkpoint path as given.
  public var location: String
  /// The layout the checkpoint was checked as (`nil` when no tensor table applied).
  package var layout: ExpectedTensors.Layout?
  /// The source format ``FormatDetector`` recognised (`eagle3-safeailab`, `speculators-eagle3`,
  /// ...), a label; ``layout`` decides the checks.
  public var detectedFormat: String?
  /// A wrapper prefix (`model.`) removed from tensor names before the tensor checks; findings
  /// name tensors without it.
  public var strippedPrefix: String?
  /// The verifier used, if one was resolved.
  public var verifier: VerifierUsed?
  /// Whether tensor bytes were scanned (`--content`).
  public var contentScanned: Bool
  /// The manifest compared against, if any.
  public var manifest: String?
  /// Every finding, errors first, then by check id.
  public var findings: [Finding]
  /// Checks that could not run, with reasons (they apply but were not run; not passed).
  public var skipped: [SkippedCheck]
  /// Checks that do not apply to this checkpoint (a flag its layout lacks, no sharding, ...).
  public var notApplicable: [CheckID]
  /// Every check that ran (with or without findings), in catalogue order.
  public var checksRun: [CheckID]

  /// Creates a report.
  package init(
    location: String, layout: ExpectedTensors.Layout?, detectedFormat: String? = nil,
    strippedPrefix: String? = nil,
    verifier: VerifierUsed?,
    contentScanned: Bool,
    manifest: String?, findings: [Finding], skipped: [SkippedCheck], notApplicable: [CheckID] = [],
    checksRun: [CheckID]
  ) {
    self.location = location
    self.layout = layout
    self.detectedFormat = detectedFormat
    self.strippedPrefix = strippedPrefix
    self.verifier = verifier
    self.contentScanned = contentScanned
    self.manifest = manifest
    self.findings = findings
    self.skipped = skipped
    self.notApplicable = notApplicable
    self.checksRun = checksRun
  }

  /// Number of error findings.
  public var errorCount: Int { findings.count { $0.severity == .error } }
  /// Number of warning findings.
  public var warningCount: Int { findings.count { $0.severity == .warning } }
  /// Whether any finding is an error (`verify` then exits 1).
  public var hasErrors: Bool { errorCount > 0 }

  /// Checks that ran and found nothing.
  public var passed: [CheckID] {
    let flagged = Set(findings.map(\.check))
    return checksRun.filter { !flagged.contains($0) }
  }

  /// Findings of one check.
  public func findings(_ id: CheckID) -> [Finding] {
    findings.filter { $0.check == id }
  }

  /// The report as JSON (`schemas/verify-report.schema.json`).
  public func json() -> JSONValue {
    func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    var verifierJSON = JSONValue.null
    if let verifier {
      verifierJSON = [
        "given": .string(verifier.given), "directory": .string(verifier.directory),
        "source": .string(verifier.source),
      ]
    }
    let summary: JSONValue = [
      "errors": .int(Int64(errorCount)), "warnings": .int(Int64(warningCount)),
      "checks_run": .int(Int64(checksRun.count)), "passed": .int(Int64(passed.count)),
      "skipped": .int(Int64(skipped.count)),
    ]
    let skippedJSON: [JSONValue] = skipped.map {
      ["id": .string($0.check.rawValue), "reason": .string($0.reason)]
    }
    var members: [(key: String, value: JSONValue)] = []
    members.append(("tool", ["name": .string(ToolInfo.name), "version": .string(ToolInfo.version)]))
    members.append(("path", .string(location)))
    members.append(("layout", optional(layout?.rawValue)))
    members.append(("detected_format", optional(detectedFormat)))
    members.append(("stripped_prefix", optional(strippedPrefix)))
    members.append(("verifier", verifierJSON))
    members.append(("content_scanned", .bool(contentScanned)))
    members.append(("manifest", optional(manifest)))
    members.append(("summary", summary))
    members.append(("findings", .array(findings.map { $0.json() })))
    members.append(("passed", .array(passed.map { .string($0.rawValue) })))
    members.append(("skipped", .array(skippedJSON)))
    members.append(("not_applicable", .array(notApplicable.map { .string($0.rawValue) })))
    return .object(members)
  }
}
