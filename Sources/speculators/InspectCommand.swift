import ArgumentParser
import Inspect
import Platform

/// `speculators inspect PATH [--json]`: files, config summary, tensors and totals of a checkpoint.
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Show a checkpoint's files, config summary, tensors and totals (headers only).",
    discussion: """
      PATH is a checkpoint directory, a single weights file (.safetensors, .bin, .pt, .pth; \
      recognised by content, not name), a sharded index (*.index.json), a Hugging Face Hub id \
      (org/name[@revision], read from the local HF cache first) or an http(s) URL. Only headers are \
      read, so large checkpoints inspect quickly.

      Examples:
        speculators inspect ./eagle3-draft
        speculators inspect ./verifier/model.safetensors.index.json
        speculators inspect ./draft/pytorch_model.bin --json | jq '.totals'
        speculators inspect yuhuili/EAGLE3-LLaMA3.1-Instruct-8B --offline

      Exit status: 0 on success, 2 when the path cannot be read (one line on stderr naming \
      the file and the byte offset or tensor at fault).
      """
  )

  @Argument(help: "A checkpoint directory, weights file or index file.")
  var path: String

  @Flag(name: .long, help: "Print one JSON document (schemas/inspect-report.schema.json).")
  var json = false

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  func run() throws {
    try runReportingErrors {
      let report = try Inspector.inspect(path: localPathForCommand(path, need: sources.headersUnlessDownloading(), options: sources))
      if json {
        JSONWriter.streamPretty(to: OutputStream.standardOutput.writeAll) { report.writeJSON(to: &$0) }
      } else {
        OutputStream.standardOutput.emit(InspectRendering.lines(report, width: terminalWidth()))
      }
    }
  }
}
