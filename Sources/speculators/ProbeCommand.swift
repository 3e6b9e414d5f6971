import ArgumentParser
import Foundation
import Inspect
import Probe

/// `speculators probe DRAFT --verifier V`: greedy speculative decoding on the CPU, as vLLM does
/// it, reporting drafted and accepted tokens.
struct ProbeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe",
    abstract: "Measure how many of a draft's tokens its verifier accepts, decoding greedily on the CPU as vLLM does.",
    discussion: """
      Runs the verifier (Llama, Mistral, Qwen2, Qwen3) and the draft (eagle3, eagle; Speculators \
      format or a source before conversion) through greedy speculative decoding exactly as vLLM's \
      EAGLE proposer and rejection sampler do, and reports drafted and accepted tokens (vLLM's \
      draft_tokens and accepted_tokens), the acceptance rate, the mean acceptance length, \
      acceptance per draft position and the first draft token's top-1 agreement.

      Prompts are JSON lines of token ids (--prompt-ids); without them, short seeds continued \
      greedily by the verifier. EOS is ignored. When acceptance is near zero, the readings a \
      converter can get wrong are tried (norm_before_residual flipped, vLLM's default aux layers \
      or the declared ones shifted by one, the verifier's embedding); one that restores \
      acceptance is reported with the fix. Exit status 1 when acceptance is near zero.

      Examples:
        speculators probe converted --verifier ./Llama-3.1-8B-Instruct
        speculators probe converted --verifier ./verifier --prompt-ids prompts.jsonl --max-tokens 64 --json
      """)

  @Argument(help: "The draft: a local directory (Speculators format or a source before conversion).")
  var draft: String

  @Option(help: "The verifier: a local directory holding config.json and its weights.")
  var verifier: String

  @Option(help: "JSON lines, one list of token ids per prompt.")
  var promptIds: String?

  @Option(help: "Tokens generated per prompt.")
  var maxTokens: Int = 32

  @Option(help: "Draft tokens per step (default: the draft's speculative_tokens, else 3).")
  var numSpeculativeTokens: Int?

  @Flag(help: "Do not try alternative readings when acceptance is near zero.")
  var noDiagnosis = false

  @Flag(help: "Print one JSON document (schemas/probe-report.schema.json).")
  var json = false

  func validate() throws {
    guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
    if let k = numSpeculativeTokens, !(1...Prober.maximumSpeculativeTokens).contains(k) {
      throw ValidationError("--num-speculative-tokens must be in 1...\(Prober.maximumSpeculativeTokens)")
    }
  }

  func run() throws {
    var collapsed = false
    try runReportingErrors {
      let progress = ProgressLine("probing")
      let prompts = try promptIds.map(PromptFile.read)
      let options = ProbeOptions(
        prompts: prompts, maxTokens: maxTokens, speculativeTokens: numSpeculativeTokens, diagnose: !noDiagnosis)
      let report = try Prober.probe(draft: draft, verifier: verifier, options: options)
      progress.finish()
      if json {
        printJSON(report.json())
      } else {
        print(Self.text(report), terminator: "")
      }
      collapsed = report.collapsed
    }
    if collapsed { throw ExitStatus.findings }
  }

  /// The human report.
  static func text(_ report: ProbeReport) -> String {
    func fixed(_ value: Double) -> String { String(format: "%.2f", value) }
    let a = report.acceptance
    let r = report.reading
    var out = "probe: \(TerminalText.escaped(report.draft)) against \(TerminalText.escaped(report.verifier))\n"
    out += "draft: \(r.algorithm.rawValue), \(report.converted ? "Speculators format" : "source before conversion")"
    if r.algorithm == .eagle3 {
      let origin = r.declaredAuxLayerIDs == nil ? "vLLM's default" : "declared"
      out += "; aux layers \(r.auxLayerIDs) (\(origin)); norm_before_residual \(r.normBeforeResidual)"
      if r.normBeforeFC { out += "; norm_before_fc" }
      if r.fcNorm { out += "; fc_norm" }
      if r.normOutput { out += "; norm_output" }
    } else if r.layernorms {
      out += "; HASS layernorms"
    }
    out += "; embedding: \(r.embedding.rawValue)'s; lm_head: \(r.lmHead.rawValue)'s\n"
    let promptTokens = report.prompts.reduce(0) { $0 + $1.count }
    out += "prompts: \(report.prompts.count) (\(promptTokens) tokens); max tokens \(report.maxTokens); "
    out += "\(report.speculativeTokens) speculative tokens per step\n"
    out += "drafted \(a.draftTokens) tokens in \(a.drafts) steps; accepted \(a.acceptedTokens) "
    out += "(acceptance \(fixed(a.rate)), mean acceptance length \(fixed(a.meanAcceptanceLength)))\n"
    out += "acceptance per position: \(a.ratePerPosition.map(fixed).joined(separator: " "))\n"
    out += "first-token agreement: \(fixed(a.firstTokenAgreement))\n"
    if report.collapsed {
      out += colored("acceptance is near zero", "31") + "\n"
      for alternative in report.alternatives {
        let mark = alternative.restores ? colored("restores", "32") : "no change"
        out += "  with \(TerminalText.escaped(alternative.change)): acceptance \(fixed(alternative.acceptance.rate)) (\(mark))\n"
      }
      if let fix = report.restoringAlternative {
        out += "fix: \(TerminalText.escaped(fix.fix))\n"
      }
    }
    return out
  }
}
