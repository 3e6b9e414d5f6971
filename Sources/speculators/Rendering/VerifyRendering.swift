import Inspect
import Validate

/// Human rendering of a ``VerifyReport``: what was checked, one line per finding, skipped
/// checks grouped by reason, and the verdict.
enum VerifyRendering {
  static func lines(_ report: VerifyReport) -> TerminalLines {
    var out = TerminalLines()
    var heading = "verify \(report.location)"
    if let layout = report.layout {
      let detected = report.detectedFormat.map { $0 == layout.rawValue ? "" : "detected \($0), " } ?? ""
      heading += " (\(detected)checked as \(layout.rawValue))"
    }
    if let prefix = report.strippedPrefix { heading += ", tensor names read without the '\(prefix)' prefix" }
    out.add(Piece(heading))
    if let verifier = report.verifier {
      let source = verifier.source == "option" ? "--verifier" : "speculators_config.verifier.name_or_path"
      out.add("verifier: \(verifier.given) (from \(source))")
    }
    let width = max(24, (report.findings.map(\.check.rawValue.count).max() ?? 0) + 2)
    for finding in report.findings {
      let label = finding.severity == .error ? styled("error  ", .error) : styled("warning", .warning)
      out.add(label, "  \(pad(finding.check.rawValue, width))\(finding.message)")
    }
    var reasons: [(String, [String])] = []
    for skip in report.skipped {
      if let index = reasons.firstIndex(where: { $0.0 == skip.reason }) {
        reasons[index].1.append(skip.check.rawValue)
      } else {
        reasons.append((skip.reason, [skip.check.rawValue]))
      }
    }
    for (reason, ids) in reasons {
      out.add(styled("skipped", .muted), "  \(reason): \(ids.joined(separator: ", "))")
    }
    let errors = report.errorCount
    let warnings = report.warningCount
    let verdict =
      errors > 0
      ? styled("FAILED", .bad)
      : (warnings > 0 ? styled("passed with warnings", .warning) : styled("passed", .good))
    out.add(
      verdict,
      Piece(
        ": \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s"); "
        + "\(report.passed.count) checks passed, \(report.skipped.count) skipped"))
    return out
  }

  private static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
  }
}
