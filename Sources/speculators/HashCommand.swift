import ArgumentParser
import Inspect

extension FileDigestAlgorithm: ExpressibleByArgument {}

/// `speculators hash PATH`: SHA-256 (or XXH3-128) per file in checksum-file format, XXH3-128 per
/// tensor.
struct HashCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash",
    abstract: "Print SHA-256 of every file and XXH3-128 of every tensor of a checkpoint.",
    discussion: """
      File lines use the sha256sum format, with names relative to the checkpoint directory, so \
      `sha256sum -c` run there accepts the output (names holding a backslash or newline are \
      escaped as sha256sum escapes them; on a terminal, other control characters in names are \
      shown as \\xHH). Tensor digests follow as '#' comment lines \
      (which sha256sum skips): XXH3-128 of each tensor's dense little-endian bytes, equal to \
      `xxhsum -H2` of those bytes and the same whether the tensor sits in a .bin or a safetensors \
      file. Files and tensors are hashed in parallel.

      --algorithm xxh3 gives XXH3-128 file digests instead (several times faster than SHA-256, \
      the lines `xxhsum -H2` prints, checked by `xxhsum -c`). --files-only and --tensors-only \
      skip the other half. A Hub id or URL is downloaded whole, --tensors-only included: the \
      tensors of a safetensors file are all of it but its header.

      Examples:
        speculators hash converted > SHA256SUMS
        (cd converted && sha256sum -c ../SHA256SUMS)
        speculators hash converted --algorithm xxh3 --files-only > XXH128SUMS
        speculators hash converted --json
      """)

  @Argument(help: "The checkpoint: a directory, a weights file, or a sharded index.")
  var path: String

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  @Option(help: "The whole-file digest: sha256 (sha256sum) or xxh3 (XXH3-128, xxhsum -H2).")
  var algorithm: FileDigestAlgorithm = .sha256

  @Flag(help: "Hash whole files only, not tensors.")
  var filesOnly = false

  @Flag(help: "Hash tensors only, not whole files.")
  var tensorsOnly = false

  @Flag(help: "Print one JSON document (schemas/hash-report.schema.json).")
  var json = false

  func validate() throws {
    if filesOnly && tensorsOnly {
      throw ValidationError("--files-only and --tensors-only exclude each other")
    }
  }

  func run() throws {
    try runReportingErrors {
      let progress = ProgressLine()
      defer { progress.finish() }
      let local = try localPathForCommand(path, need: .checkpoint, options: sources)
      let selection = HashReport.Selection(fileAlgorithm: algorithm, files: !tensorsOnly, tensors: !filesOnly)
      let report = try HashReport.compute(path: local, selection: selection, progress: progress.handler)
      if json {
        printJSON(report.json())
      } else {
        OutputStream.standardOutput.writeRaw(
          HashRendering.text(report, onTerminal: OutputStream.standardOutput.isTerminal))
      }
    }
  }
}
