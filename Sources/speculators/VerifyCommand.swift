import ArgumentParser
import Probe
import Inspect
import Validate

/// `speculators verify PATH`: every check of `docs/checks.md`, each with a stable id and severity.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check a draft checkpoint for every known cause of silent failure in vLLM.",
    discussion: """
      Checks a Speculators checkpoint (ours or the Python tool's) or a raw EAGLE / EAGLE-3 draft: \
      config keys as vLLM reads them, expected tensors and shapes, layer count, feature flags, \
      vocabulary maps, dtypes, shard index, and - with a verifier - hidden size, vocabulary, fc \
      width, aux layer ids and embeddings. Header and config checks read no tensor data.

      Without --verifier, speculators_config.verifier.name_or_path is used when it is a local \
      directory; otherwise the verifier checks are reported as skipped (not passed).

      Exit status: 0 no errors (warnings allowed), 1 errors found, 2 input or usage error.
      Check catalogue: docs/checks.md, or --list-checks.

      Examples:
        speculators verify converted --verifier ./Llama-3.1-8B-Instruct
        speculators verify converted --manifest --content
        speculators verify ./eagle3-draft --verifier ./verifier --json
      """)

  @Argument(help: "The checkpoint: a directory, a weights file, or a sharded index.")
  var path: String?

  @Option(help: "The verifier: a local directory holding config.json (and weights, for --content).")
  var verifier: String?

  @Option(
    name: .long, defaultAsFlag: "", parsing: .next,
    help: ArgumentHelp(
      "Re-hash every file and tensor and compare with the audit manifest.",
      discussion: "Without FILE: speculators-manifest.json in the checkpoint directory.",
      valueName: "FILE"))
  var manifest: String?

  @Flag(help: "Read tensor values: NaN/Inf, vocabulary map values, looks-uninitialised statistics.")
  var content = false

  @Flag(help: "Decode the draft against the verifier's weights (greedy, as vLLM): near-zero acceptance and the reading that restores it become findings.")
  var probe = false

  @OptionGroup(title: "Acceptance probe (with --probe)")
  var probeArguments: ProbeArguments

  @Flag(help: "Print one JSON document (schemas/verify-report.schema.json).")
  var json = false

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  @Flag(help: "Print the check catalogue (with --json: schemas/check-catalogue.schema.json) and exit.")
  var listChecks = false

  func validate() throws {
    if path == nil && !listChecks {
      throw ValidationError("verify: missing PATH (the checkpoint to verify)")
    }
  }

  func run() throws {
    try runReportingErrors {
      if listChecks {
        if json {
          printJSON(CheckCatalogue.json())
        } else {
          print(CheckCatalogue.markdownTable(), terminator: "")
        }
        return
      }
      guard let path else { return }  // refused by validate()
      let manifestSource: VerifyOptions.ManifestSource =
        switch manifest {
        case nil: .none
        case ""?: .checkpointDirectory
        case let file?: .file(file)
        }
      let progress = ProgressLine()
      let report: VerifyReport
      do {
        defer { progress.finish() }
        // Structure and verifier checks read headers only; --content and --manifest read bytes.
        let readsValues = content || manifest != nil
        // --probe runs both models, so it needs every weight of the draft and the verifier.
        let local = try localPathForCommand(
          path, need: readsValues || probe ? .checkpoint : sources.headersUnlessDownloading(), options: sources)
        let verifierPath = try verifier.map { (given) throws in
          try localPathForCommand(given, need: probe ? .checkpoint : .configOnly, options: sources)
        }
        let probeOptions = probe ? try probeArguments.options() : nil
        report = try Verifier.verify(
          path: local,
          options: VerifyOptions(
            verifier: verifierPath, manifest: manifestSource, scanContent: content, probe: probeOptions),
          progress: progress.handler)
      }
      if json {
        printJSON(report.json())
      } else {
        OutputStream.standardOutput.emit(VerifyRendering.lines(report))
      }
      if report.hasErrors { throw ExitStatus.findings }
    }
  }
}
