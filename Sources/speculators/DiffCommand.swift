import ArgumentParser
import Inspect
import Platform
import Synchronization
import Validate

/// `speculators diff A B`: compares two checkpoints, two conversions, or a checkpoint with an
/// audit manifest.
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare two checkpoints (or conversions, or a checkpoint and its manifest), exactly.",
    discussion: """
      Reports config.json differences by JSON path (tool versions and auto_map are marked \
      volatile and do not count), safetensors metadata and file differences, tensors only in A or only in B, \
      dtype and shape changes, tensors identical by XXH3-128 digest, and for tensors whose bytes \
      differ: max |a-b| (and where), mean |a-b|, relative L2, cosine similarity and the number \
      of elements beyond tolerance, computed in double precision while streaming.

      By default the comparison is exact: equal means same dtype, shape and bytes. --values \
      compares values instead (an F16 and an F32 tensor holding the same numbers are equal), \
      within --rtol/--atol (NumPy isclose semantics, defaults 1e-5 and 1e-8; NaN equals NaN).

      A Hub id or URL is read by its safetensors headers only (HTTP Range) unless --values or \
      --download is given or the Hugging Face cache already holds its files: the diff then \
      compares structure only (configs, files, tensor names, dtypes and shapes) and reads no \
      tensor byte; tensors of equal dtype and shape are reported as bytes-not-read.

      --mapping auto (the default) pairs a source draft's tensors with their renamed \
      counterparts in its Speculators conversion (eagle: fc. -> fusion_fc., layers.0. -> \
      transformer.; eagle3: midlayer. -> layers.0.), and reports tensors the conversion drops \
      or adds as such.

      Exit status: 0 identical or equal, 1 different, 2 error.

      Examples:
        speculators diff converted/ published/
        speculators diff --offline converted/ \\
            RedHatAI/Llama-3.1-8B-Instruct-speculator.eagle3
        speculators diff converted/ published/ --values --rtol 1e-3
        speculators diff Fixtures/eagle3-embed converted/ --values
        speculators diff converted/ converted/speculators-manifest.json --json
      """
  )

  @Argument(help: "The first checkpoint: a directory, weights file, sharded index, or manifest.")
  var a: String

  @Argument(help: "The second checkpoint, same choices.")
  var b: String

  @Flag(help: "Print one JSON document (schemas/diff-report.schema.json) instead of text.")
  var json = false

  @Flag(help: "Compare values, not bytes: equal within tolerance counts as equal.")
  var values = false

  @Option(help: ArgumentHelp("Relative tolerance (implies --values; default 1e-5).", valueName: "R"))
  var rtol: Double?

  @Option(help: ArgumentHelp("Absolute tolerance (implies --values; default 1e-8).", valueName: "A"))
  var atol: Double?

  @Option(help: "Pair tensors through the conversion renames (auto) or by name only (none).")
  var mapping: DiffOptions.Mapping = .auto

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  func validate() throws {
    for (flag, value) in [("--rtol", rtol), ("--atol", atol)] {
      if let value, !DiffOptions.isValidTolerance(value) {
        throw ValidationError("\(flag) must be a finite number >= 0")
      }
    }
  }

  func run() throws {
    try runReportingErrors {
      let readsValues = values || rtol != nil || atol != nil
      let meter = ProgressLine()
      defer { meter.finish() }
      // Without values to compare, a Hub id or URL is read by its headers only, and then the
      // whole diff compares structure (a whole copy already in the cache is read whole).
      let need = readsValues ? .checkpoint : sources.headersUnlessDownloading()
      let sourceA = try resolveForCommand(a, need: need, options: sources)
      let sourceB = try resolveForCommand(b, need: need, options: sources)
      let pathA = commandPath(sourceA)
      let pathB = commandPath(sourceB)
      let options = try DiffOptions(
        values: values, rtol: rtol, atol: atol, mapping: mapping,
        structureOnly: sourceA.isPartial || sourceB.isPartial)
      let report = try CheckpointDiffer.diff(pathA, pathB, options: options, progress: meter.handler)
      meter.finish()
      if json {
        printJSON(DiffRendering.json(report))
      } else {
        OutputStream.standardOutput.emit(DiffRendering.lines(report))
      }
      if report.hasDifferences { throw ExitStatus.findings }
    }
  }
}

extension DiffOptions.Mapping: ExpressibleByArgument {}
