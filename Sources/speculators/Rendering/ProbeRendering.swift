import Foundation
import Probe

/// The human text of `speculators probe`.
enum ProbeRendering {
  static func lines(_ report: ProbeReport) -> TerminalLines {
    func fixed(_ value: Double) -> String { String(format: "%.2f", value) }
    let a = report.acceptance
    let r = report.reading
    var out = TerminalLines()
    out.add(styled("probe", .heading), " \(report.draft) against \(report.verifier)")
    var draft = "draft: \(r.algorithm.rawValue), \(report.converted ? "Speculators format" : "source before conversion")"
    if r.algorithm == .eagle3 {
      let origin = r.declaredAuxLayerIDs == nil ? "vLLM's default" : "declared"
      draft += "; aux layers \(r.auxLayerIDs) (\(origin)); norm_before_residual \(r.normBeforeResidual)"
      if r.normBeforeFC { draft += "; norm_before_fc" }
      if r.fcNorm { draft += "; fc_norm" }
      if r.normOutput { draft += "; norm_output" }
    } else if r.layernorms {
      draft += "; HASS layernorms"
    }
    draft += "; embedding: \(r.embedding.rawValue)'s; lm_head: \(r.lmHead.rawValue)'s"
    out.add(Piece(draft))
    let promptTokens = report.prompts.reduce(0) { $0 + $1.count }
    out.add(
      Piece(
        "prompts: \(report.prompts.count) (\(promptTokens) tokens); max tokens \(report.maxTokens); "
          + "\(report.speculativeTokens) speculative tokens per step"))
    out.add(
      "drafted \(a.draftTokens) tokens in \(a.drafts) steps; accepted \(a.acceptedTokens) (acceptance ",
      styled(fixed(a.rate), report.collapsed ? .bad : .good),
      ", mean acceptance length \(fixed(a.meanAcceptanceLength)))")
    out.add("acceptance per position: \(a.ratePerPosition.map(fixed).joined(separator: " "))")
    out.add("first-token agreement: \(fixed(a.firstTokenAgreement))")
    if report.collapsed {
      out.add(styled("acceptance is near zero", .error))
      for alternative in report.alternatives {
        out.add(
          "  with \(alternative.change): acceptance \(fixed(alternative.acceptance.rate)) (",
          alternative.restores ? styled("restores", .good) : styled("no change", .muted), ")")
      }
      if let fix = report.restoringAlternative {
        out.add(styled("fix", .heading), ": \(fix.fix)")
      }
    }
    return out
  }
}
