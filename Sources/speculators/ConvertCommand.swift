import ArgumentParser
import Convert
import Inspect
import Platform

extension AlgorithmChoice: ExpressibleByArgument {}

/// `speculators convert`: EAGLE v1/v2, HASS and EAGLE-3 drafts → the Speculators format.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert an EAGLE v1/v2, HASS or EAGLE-3 draft to the Speculators format vLLM serves.",
    discussion: """
      Writes OUTPUT/config.json, OUTPUT/model.safetensors (sharded with an index above \
      --max-shard-size) and OUTPUT/speculators-manifest.json (SHA-256 of every file, XXH3-128 of \
      every tensor and where it came from). The output is written into a temporary sibling and \
      renamed into place, so a failure leaves nothing behind. Every source tensor is either \
      converted or reported as dropped; a tensor the layout does not know is an error unless \
      --allow-drop or --drop-unknown says otherwise.

      Exit status: 0 converted, 2 usage or input error (one line on stderr naming the file and \
      the tensor at fault; nothing is written).

      Examples:
        speculators convert ./EAGLE-LLaMA3.1-Instruct-8B --algorithm eagle \\
            --verifier ./Llama-3.1-8B-Instruct
        speculators convert ./EAGLE3-LLaMA3.1-Instruct-8B --algorithm eagle3 \\
            --verifier ./Llama-3.1-8B-Instruct --output-path eagle3-converted \\
            --algorithm-kwargs '{"norm_before_residual": false}' \\
            --validate-device cpu
        speculators convert ./draft --algorithm auto --verifier ./verifier \\
            --dtype bf16 --json
      """)

  @Argument(
    help: "The draft: a directory, a single weights file (.bin or .safetensors), a Hub id (org/name[@revision]) or a URL.")
  var model: String

  @Option(help: "eagle (EAGLE v1/v2, HASS), eagle3 (EAGLE-3), dflash (z-lab DFlash), or auto (detect from the tensors).")
  var algorithm: AlgorithmChoice

  @Option(
    help: "The verifier: a directory, Hub id or URL (its config.json; the one embeddings shard when needed).")
  var verifier: String

  @Option(
    name: [.customLong("output-path"), .customLong("output_path")],
    help: "The output directory.")
  var outputPath: String = Converter.defaultOutputPath

  @Option(
    name: [.customLong("algorithm-kwargs"), .customLong("algorithm_kwargs")],
    help: ArgumentHelp(
      "A JSON object of algorithm options.",
      discussion: "eagle: layernorms, fusion_bias. eagle3: norm_before_residual, "
        + "eagle_aux_hidden_state_layer_ids, norm_before_fc, fc_norm, norm_output. "
        + "dflash: aux_hidden_state_layer_ids.", valueName: "json"),
    transform: AlgorithmKwargs.parseArgument)
  var algorithmKwargs: AlgorithmKwargs?

  @Option(
    name: [.customLong("validate-device"), .customLong("validate_device")],
    help:
      "Check the output before moving it into place (no forward pass runs; cpu is accepted, others noted).")
  var validateDevice: String?

  @Option(
    help: ArgumentHelp(
      "Write floats as float32, float16 or bfloat16 (default: keep the source dtype).",
      discussion: "Accepted: \(FloatDTypeArgument.acceptedForms).", valueName: "dtype"),
    transform: FloatDTypeArgument.parse)
  var dtype: FloatDTypeArgument?

  @Option(
    name: [.customLong("max-shard-size"), .customLong("max_shard_size")],
    help: ArgumentHelp(
      "Largest shard, in bytes of tensor data (default 5GB).",
      discussion: "Accepted: \(ByteSizeArgument.acceptedForms).", valueName: "size"),
    transform: ByteSizeArgument.parse)
  var maxShardSize = ByteSizeArgument(bytes: SafetensorsWriter.defaultMaxShardSize)

  @Option(
    name: [.customLong("allow-drop"), .customLong("allow_drop")],
    help: "A source tensor (or prefix ending in *) that may be left out; repeatable.")
  var allowDrop: [String] = []

  @Flag(
    name: [.customLong("drop-unknown"), .customLong("drop_unknown")],
    help: "Leave out every tensor the layout does not know (each is listed in the manifest).")
  var dropUnknown = false

  @Flag(help: "Replace an existing non-empty output directory.")
  var force = false

  @Flag(
    name: [.customLong("ignore-detection"), .customLong("ignore_detection")],
    help: "Convert with --algorithm even when the detected layout says otherwise.")
  var ignoreDetection = false

  @Flag(help: "Print the report as one JSON document.")
  var json = false

  @OptionGroup(title: "Hub and URL sources")
  var sources: SourceOptions

  func validate() throws {
    try algorithmKwargs?.validate(for: algorithm)
  }

  func run() throws {
    try runReportingErrors { try execute() }
  }

  private func execute() throws {
    // A file-size limit (ulimit -f) must give a clean "File too large" error, not a signal.
    signal(SIGXFSZ, SIG_IGN)
    let request = ConversionRequest(
      model: try resolveForCommand(model, need: .checkpoint, options: sources),
      verifier: try resolveForCommand(verifier, need: .configOnly, options: sources),
      fetch: sources.fetcher, algorithm: algorithm,
      outputPath: outputPath, algorithmKwargs: algorithmKwargs ?? AlgorithmKwargs(), validateDevice: validateDevice,
      dtype: dtype?.dtype, force: force, ignoreDetection: ignoreDetection, maxShardSize: maxShardSize.bytes,
      allowDrop: allowDrop, dropUnknown: dropUnknown)
    let progress = ProgressLine()
    let report: ConversionReport
    do {
      defer { progress.finish() }
      report = try Converter.convert(request, progress: progress.handler)
    }
    if json {
      printJSON(report.json())
    } else {
      OutputStream.standardOutput.emit(ConvertRendering.lines(report, width: terminalWidth()))
      OutputStream.standardError.emit(ConvertRendering.warnings(report))
    }
  }
}
