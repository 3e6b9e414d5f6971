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

  @Argument(
    help: "The draft (Speculators format or a source before conversion): a local path, a Hub id or a URL.")
  var draft: String

  @Option(help: "The verifier: a local directory holding config.json and its weights, a Hub id or a URL.")
  var verifier: String

  @OptionGroup
  var probeArguments: ProbeArguments

  @Flag(help: "Do not try alternative readings when acceptance is near zero.")
  var noDiagnosis = false

  @Flag(help: "Print one JSON document (schemas/probe-report.schema.json).")
  var json = false

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  func run() throws {
    var collapsed = false
    try runReportingErrors {
      let options = try probeArguments.options(diagnose: !noDiagnosis)
      // The probe multiplies every weight: Hub ids and URLs are fetched whole.
      let draftPath = try localPathForCommand(draft, need: .checkpoint, options: sources)
      let verifierPath = try localPathForCommand(verifier, need: .checkpoint, options: sources)
      let report = try Prober.probe(draft: draftPath, verifier: verifierPath, options: options)
      if json {
        printJSON(report.json())
      } else {
        OutputStream.standardOutput.emit(ProbeRendering.lines(report))
      }
      collapsed = report.collapsed
    }
    if collapsed { throw ExitStatus.findings }
  }
}
