import Foundation
import Inspect
import Probe

/// `verify --probe`: decodes the draft against the verifier's weights (``Prober``) and turns a
/// collapsed acceptance, and a reading that restores it, into findings.
enum ProbeChecks {
  static let ids: [CheckID] = [.probeAcceptance, .probeMisreading]

  static func check(_ run: VerificationRun, verifier: ResolvedVerifier?) {
    guard let options = run.options.probe else {
      run.skip(ids, "not probed (pass --probe)")
      return
    }
    guard let verifier else {
      run.skip(ids, "no verifier to decode against (pass --verifier DIR)")
      return
    }
    let report: ProbeReport
    do {
      report = try Prober.probe(draft: run.checkpoint.location, verifier: verifier.directory, options: options)
    } catch {
      if error.kind == .unsupported {
        run.skip(ids, "the probe cannot run this pair: \(error.reason)")
      } else {
        run.report(.probeAcceptance, .error, "the probe could not decode the draft: \(error.description)")
        run.skip([.probeMisreading], "the probe did not run")
      }
      return
    }
    func fixed(_ value: Double) -> String { String(format: "%.2f", value) }
    let a = report.acceptance
    run.ran(.probeAcceptance, .probeMisreading)
    guard report.collapsed else { return }
    run.report(
      .probeAcceptance, .error, expected: ">= \(fixed(Prober.collapsedRate))", found: fixed(a.rate),
      "acceptance \(fixed(a.rate)): the verifier accepted \(a.acceptedTokens) of \(a.draftTokens) drafted tokens "
        + "in greedy decoding as vLLM runs it")
    if let alternative = report.restoringAlternative {
      let state = report.converted ? "as converted" : "as read"
      run.report(
        .probeMisreading, .error, found: alternative.change,
        "acceptance \(fixed(a.rate)) \(state), \(fixed(alternative.acceptance.rate)) with \(alternative.change): "
          + alternative.fix)
    }
  }
}
