import ArgumentParser
import Inspect

/// `speculators hash PATH`: SHA-256 per file (sha256sum format), XXH3-128 per tensor.
struct HashCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash",
    abstract: "Print SHA-256 of every file and XXH3-128 of every tensor of a checkpoint.",
    discussion: """
      File lines use the sha256sum format, with names relative to the checkpoint directory, so \
      `sha256sum -c` run there accepts the output. Tensor digests follow as '#' comment lines \
      (which sha256sum skips): XXH3-128 of each tensor's dense little-endian bytes, equal to \
      `xxhsum -H2` of those bytes and the same whether the tensor sits in a .bin or a safetensors \
      file. Files and tensors are hashed in parallel.

      Examples:
        speculators hash converted > SHA256SUMS && (cd converted && sha256sum -c ../SHA256SUMS)
        speculators hash converted --json
      """)

  @Argument(help: "The checkpoint: a directory, a weights file, or a sharded index.")
  var path: String

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  @Flag(help: "Print one JSON document (schemas/hash-report.schema.json).")
  var json = false

  func run() throws {
    try runReportingErrors {
      let progress = ProgressLine("hashing")
      defer { progress.finish() }
      let local = try localPathForCommand(path, need: .checkpoint, options: sources)
      let report = try HashReport.compute(path: local, progress: progress.handler)
      if json {
        printJSON(report.json())
      } else {
        print(report.sha256sumText, terminator: "")
      }
    }
  }
}
