import Inspect

/// How serious a finding is. Errors make `verify` exit 1; warnings are reported only.
public enum Severity: String, Sendable, Hashable, Codable, Comparable {
  /// Worth knowing; the checkpoint may still work as intended.
  case warning
  /// The checkpoint is broken or will be served wrongly.
  case error

  public static func < (lhs: Severity, rhs: Severity) -> Bool {
    lhs == .warning && rhs == .error
  }
}

/// One problem found by a check: which check, how serious, what it concerns, and the expected
/// and found values.
public struct Finding: Sendable, Hashable {
  /// The check that found it.
  public var check: CheckID
  /// How serious it is.
  public var severity: Severity
  /// A one-line explanation naming the tensor or key and the expected vs found value.
  public var message: String
  /// The tensor concerned, if any.
  public var tensor: String?
  /// The dotted config key concerned, if any (`speculators_config.verifier.name_or_path`).
  public var key: String?
  /// The file concerned, relative to the checkpoint directory, if any.
  public var file: String?
  /// The expected value, as text.
  public var expected: String?
  /// The value found, as text.
  public var found: String?

  /// Creates a finding.
  package init(
    check: CheckID, severity: Severity, message: String, tensor: String? = nil, key: String? = nil,
    file: String? = nil, expected: String? = nil, found: String? = nil
  ) {
    self.check = check
    self.severity = severity
    self.message = message
    self.tensor = tensor
    self.key = key
    self.file = file
    self.expected = expected
    self.found = found
  }

  /// The finding as JSON (one element of `findings` in `schemas/verify-report.schema.json`).
  public func json() -> JSONValue {
    func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    return .object([
      ("id", .string(check.rawValue)),
      ("severity", .string(severity.rawValue)),
      ("message", .string(message)),
      ("tensor", optional(tensor)),
      ("key", optional(key)),
      ("file", optional(file)),
      ("expected", optional(expected)),
      ("found", optional(found)),
    ])
  }
}

/// A check that could not run, and why (for example no verifier could be resolved). Skipped
/// checks are not passed checks.
public struct SkippedCheck: Sendable, Hashable {
  /// The check.
  public var check: CheckID
  /// Why it did not run.
  public var reason: String

  /// Creates an entry.
  package init(check: CheckID, reason: String) {
    self.check = check
    self.reason = reason
  }
}
