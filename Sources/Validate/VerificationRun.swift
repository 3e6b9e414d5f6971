import Inspect

/// The state of one `verify` run: the checkpoint, its config, and the findings, skips and
/// executed checks recorded so far. Checks are functions over a run.
final class VerificationRun {
  /// The checkpoint as read (manifest, shard-index and file checks use its names).
  let checkpoint: Checkpoint
  /// The checkpoint the tensor-table checks read: ``checkpoint`` with a wrapper prefix
  /// (`model.`) removed from tensor names when one was stripped, else the same.
  var view: Checkpoint
  /// The prefix removed from tensor names in ``view``.
  var strippedPrefix: String?
  let options: VerifyOptions
  /// The config when it is a JSON object.
  let config: JSONValue?
  /// The typed view of ``config``.
  let model: ModelConfig?
  /// Tensor bytes, mapped on demand (content and manifest checks).
  let reader = TensorReader()

  /// Bytes-read progress for content and manifest checks, when the caller asked for it.
  var progress: ProgressCounter?

  /// The tensor table the checks compare against, once built.
  var expected: ExpectedTensors.TensorSet?

  private(set) var findings: [Finding] = []
  private(set) var skipped: [SkippedCheck] = []
  private var ran: Set<CheckID> = []
  private var inapplicable: Set<CheckID> = []

  init(checkpoint: Checkpoint, options: VerifyOptions) {
    self.checkpoint = checkpoint
    self.view = checkpoint
    self.options = options
    if let config = checkpoint.config, config.objectMembers != nil {
      self.config = config
      self.model = ModelConfig(config)
    } else {
      self.config = nil
      self.model = nil
    }
  }

  /// Marks checks as executed.
  func ran(_ ids: CheckID...) {
    for id in ids { ran.insert(id) }
  }

  /// Records a finding (and that its check ran).
  func report(
    _ id: CheckID, _ severity: Severity, tensor: String? = nil, key: String? = nil, file: String? = nil,
    expected: String? = nil, found: String? = nil, _ message: String
  ) {
    ran.insert(id)
    findings.append(
      Finding(
        check: id, severity: severity, message: message, tensor: tensor, key: key, file: file,
        expected: expected, found: found))
  }

  /// Records that checks could not run although they apply (no verifier, no `--content`, ...).
  func skip(_ ids: [CheckID], _ reason: String) {
    for id in ids
    where !ran.contains(id) && !inapplicable.contains(id) && !skipped.contains(where: { $0.check == id }) {
      skipped.append(SkippedCheck(check: id, reason: reason))
    }
  }

  /// Skips every check of the catalogue not yet run, skipped or inapplicable that declares a
  /// need in `unmet`, with the reason of its first unmet need (in the check's own order).
  func skipUnmet(_ unmet: [CheckCatalogue.Need: String]) {
    guard !unmet.isEmpty else { return }
    for entry in CheckCatalogue.entries {
      guard let need = entry.needs.first(where: { unmet[$0] != nil }), let reason = unmet[need] else { continue }
      skip([entry.id], reason)
    }
  }

  /// Records that checks do not apply to this checkpoint (a flag the layout does not have, a
  /// checkpoint that is not sharded, ...): neither passed nor skipped.
  func notApplicable(_ ids: [CheckID]) {
    for id in ids where !ran.contains(id) {
      inapplicable.insert(id)
      skipped.removeAll { $0.check == id }
    }
  }

  /// Checks that do not apply, in catalogue order.
  var notApplicableChecks: [CheckID] {
    CheckCatalogue.ids.filter { inapplicable.contains($0) }
  }

  /// Whether a tensor exists.
  func has(_ name: String) -> Bool {
    view.tensor(named: name) != nil
  }

  /// The checkpoint-relative name of a file path.
  func relativeName(of path: String) -> String {
    checkpoint.files.first(where: { $0.path == path })?.name ?? FileSystem.lastComponent(of: path)
  }

  /// The executed checks in catalogue order (ids not in the catalogue last).
  var checksRun: [CheckID] {
    let order = Dictionary(CheckCatalogue.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    return ran.sorted { (order[$0] ?? Int.max, $0.rawValue) < (order[$1] ?? Int.max, $1.rawValue) }
  }

  /// Findings ordered errors first, then by catalogue order, keeping discovery order within a check.
  var orderedFindings: [Finding] {
    let order = Dictionary(CheckCatalogue.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    return findings.enumerated().sorted { a, b in
      let ka = (a.element.severity == .error ? 0 : 1, order[a.element.check] ?? Int.max, a.offset)
      let kb = (b.element.severity == .error ? 0 : 1, order[b.element.check] ?? Int.max, b.offset)
      return ka < kb
    }.map(\.element)
  }

  /// Skips ordered by catalogue order.
  var orderedSkips: [SkippedCheck] {
    let order = Dictionary(CheckCatalogue.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    return skipped.sorted { (order[$0.check] ?? Int.max) < (order[$1.check] ?? Int.max) }
  }
}

/// `[64, 192]`.
func formatShape(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
