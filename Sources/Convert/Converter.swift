import Inspect
import Synchronization

/// The algorithm asked for on the command line: one of the conversions, or `auto` (detected).
public enum AlgorithmChoice: String, Sendable, Hashable, CaseIterable {
  /// EAGLE v1/v2 and HASS → Speculators `eagle`.
  case eagle
  /// EAGLE-3 → Speculators `eagle3`.
  case eagle3
  /// z-lab DFlash → Speculators `dflash`.
  case dflash
  /// Decide from the checkpoint's tensors.
  case auto
}

/// Everything `speculators convert` takes; the CLI fills one of these and calls ``Converter/convert(_:progress:)``.
public struct ConversionRequest: Sendable {
  /// The draft, resolved to local files (a directory, a weights file, or a Hub snapshot) with
  /// the need ``SourceNeeds/checkpoint``.
  public var model: ResolvedSource
  /// The verifier the draft attaches to, resolved with ``SourceNeeds/configOnly`` (its `given`
  /// is written to `speculators_config.verifier.name_or_path`).
  public var verifier: ResolvedSource
  /// Fetches the verifier's token embedding when the draft lacks one and the verifier is not
  /// local; nil when both sources are local.
  public var fetch: SourceFetcher?
  /// The algorithm.
  public var algorithm: AlgorithmChoice
  /// The output directory (default `converted`).
  public var outputPath: String
  /// `--algorithm-kwargs`.
  public var algorithmKwargs: AlgorithmKwargs
  /// `--validate-device`: when set, the output is checked before it is moved into place.
  public var validateDevice: String?
  /// `--dtype`: the float dtype to write (`F32`, `F16`, `BF16`); `nil` keeps the source's.
  public var dtype: DType?
  /// `--force`: replace an existing non-empty output directory.
  public var force: Bool
  /// `--ignore-detection`: convert with `algorithm` even when it contradicts the detected layout.
  public var ignoreDetection: Bool
  /// `--max-shard-size`, bytes of tensor data per shard.
  public var maxShardSize: Int
  /// `--allow-drop`: tensor names (or `prefix*`) that may be left out.
  public var allowDrop: [String]
  /// `--drop-unknown`: leave out every tensor the layout does not know.
  public var dropUnknown: Bool

  /// Creates a request with the CLI's defaults from resolved sources (library entry points
  /// take resolved sources: resolve Hub ids and URLs first with `ModelSources`).
  public init(
    model: ResolvedSource, verifier: ResolvedSource, fetch: SourceFetcher? = nil, algorithm: AlgorithmChoice,
    outputPath: String = Converter.defaultOutputPath, algorithmKwargs: AlgorithmKwargs = AlgorithmKwargs(),
    validateDevice: String? = nil, dtype: DType? = nil, force: Bool = false, ignoreDetection: Bool = false,
    maxShardSize: Int = SafetensorsWriter.defaultMaxShardSize, allowDrop: [String] = [],
    dropUnknown: Bool = false
  ) {
    self.model = model
    self.verifier = verifier
    self.fetch = fetch
    self.algorithm = algorithm
    self.outputPath = outputPath
    self.algorithmKwargs = algorithmKwargs
    self.validateDevice = validateDevice
    self.dtype = dtype
    self.force = force
    self.ignoreDetection = ignoreDetection
    self.maxShardSize = maxShardSize
    self.allowDrop = allowDrop
    self.dropUnknown = dropUnknown
  }
}

/// The verifier byte range an embedding was read from, set by the embedding locator.
private final class FetchedRangeBox: Sendable {
  private let stored = Mutex<FetchedRange?>(nil)
  func set(_ range: FetchedRange?) { stored.withLock { $0 = range } }
  var value: FetchedRange? { stored.withLock { $0 } }
}

extension ConversionRequest {
  /// A request for a draft and a verifier that are local paths.
  public init(
    model: String, verifier: String, algorithm: AlgorithmChoice,
    outputPath: String = Converter.defaultOutputPath, algorithmKwargs: AlgorithmKwargs = AlgorithmKwargs(),
    validateDevice: String? = nil, dtype: DType? = nil, force: Bool = false, ignoreDetection: Bool = false,
    maxShardSize: Int = SafetensorsWriter.defaultMaxShardSize, allowDrop: [String] = [],
    dropUnknown: Bool = false
  ) {
    self.init(
      model: .local(model), verifier: .local(verifier), algorithm: algorithm, outputPath: outputPath,
      algorithmKwargs: algorithmKwargs, validateDevice: validateDevice, dtype: dtype, force: force,
      ignoreDetection: ignoreDetection, maxShardSize: maxShardSize, allowDrop: allowDrop, dropUnknown: dropUnknown)
  }
}

/// Converts EAGLE v1/v2, HASS and EAGLE-3 drafts to the Speculators format.
///
/// The output directory gets `config.json`, `model.safetensors` (or shards and an index) and
/// `speculators-manifest.json`; it is written into a temporary sibling and renamed into place
/// only when everything (including `--validate-device` checks) succeeded, so a failure leaves
/// nothing at the output path.
public enum Converter {
  /// The default output directory.
  public static let defaultOutputPath = "converted"

  /// Runs a conversion; `progress` receives an update as each stage begins (`reading <path>`,
  /// `hashing source files`) and, while tensors are written and while `validateDevice` checks
  /// read the output, bytes done of the total (`writing tensors`, `validating`).
  ///
  /// - Throws: one line naming the file and, where it applies, the tensor:
  ///   ``CheckpointError`` for a source or verifier that cannot be read, ``ConversionError`` for
  ///   a conversion refused or an output not written, ``UsageError`` for a request that cannot
  ///   be honoured, and what the request's `fetch` throws.
  public static func convert(
    _ request: ConversionRequest, progress: ProgressHandler? = nil
  ) throws -> ConversionReport {
    try convert(
      request, open: { path throws(CheckpointError) in try CheckpointReader.open(path) }, progress: progress)
  }

  /// The conversion with an injectable checkpoint opener and chunk size (tests), in its
  /// stages: read the source, plan the output, check the plan, write and commit.
  static func convert(
    _ request: ConversionRequest, open: @escaping CheckpointOpener,
    chunkSize: Int = TensorReader.defaultChunk,
    progress: ProgressHandler? = nil
  ) throws -> ConversionReport {
    // The command line refuses such values while parsing its flags; a library caller's request
    // is refused here, naming the output they would have shaped.
    guard request.maxShardSize > 0 else {
      throw UsageError(
        request.outputPath,
        reason: "the maximum shard size must be a positive number of bytes, not \(request.maxShardSize)")
    }
    if let dtype = request.dtype, !ElementCodec.castTypes.contains(dtype) {
      throw UsageError(
        request.outputPath,
        reason: "cannot write tensors as \(dtype.torchName): the output dtype is float32, float16 or bfloat16")
    }
    try checkOutputIsSeparate(request.outputPath, from: [request.model.path, request.verifier.path])
    progress?(.stage("reading \(request.model.openPath)"))
    let source = try readSource(request, open: open)
    let verifier = try VerifierModel.load(request.verifier)
    let fetchedEmbedding = FetchedRangeBox()
    let reader = TensorReader()
    let draft = try planDraft(
      request, source: source, verifier: verifier, reader: reader,
      locateEmbeddings: embeddingLocator(request, verifier: verifier, open: open, fetched: fetchedEmbedding))
    // The output must pass verify's header checks before anything is written.
    try OutputValidator.checkPlan(
      config: draft.config, tensors: draft.tensors.map(\.entry), outputPath: request.outputPath,
      verifier: verifier.configPath)
    return try writeOutput(
      request, source: source, verifier: verifier, draft: draft, reader: reader, open: open,
      chunkSize: chunkSize, embeddingsFetched: fetchedEmbedding, progress: progress)
  }

  /// The opened draft and what its headers and config decide: the algorithm and its options.
  private struct SourceDraft {
    /// The checkpoint as stored.
    var checkpoint: Checkpoint
    /// The checkpoint with a detected wrapper prefix removed from tensor names.
    var unwrapped: UnwrappedCheckpoint
    /// Its `config.json`, and where that is.
    var config: JSONValue
    var configPath: String
    var detection: Detection
    var algorithm: ConversionAlgorithm
    var kwargs: AlgorithmKwargs
  }

  /// Opens the draft, bounds its config, detects its layout and settles the algorithm and
  /// its options.
  private static func readSource(_ request: ConversionRequest, open: CheckpointOpener)
    throws -> SourceDraft
  {
    let model = request.model
    let checkpoint = try open(model.openPath)
    guard let configJSON = checkpoint.config else {
      throw CheckpointError(
        .notFound, file: model.openPath,
        reason: "no config.json next to the weights (the converter needs the draft's config)")
    }
    let configPath =
      checkpoint.files.first(where: { $0.kind == .config })?.path ?? checkpoint.directory + "/config.json"
    // Sizes and counts are bounded before anything computes with them.
    if let violation = ConfigBounds.violations(in: configJSON).first {
      throw CheckpointError(.malformed, file: configPath, reason: violation.message)
    }
    let detection = FormatDetector.detect(checkpoint)
    let algorithm = try chooseAlgorithm(
      request.algorithm, detection: detection, location: model.openPath, ignoringDetection: request.ignoreDetection)
    let kwargs: AlgorithmKwargs
    do {
      kwargs = try request.algorithmKwargs.checked(for: algorithm)
    } catch {
      // With `--algorithm auto` the keys can only be checked once the layout is detected.
      throw UsageError(model.openPath, reason: "\(error.file): \(error.reason)")
    }
    let unwrapped = try UnwrappedCheckpoint.unwrapping(checkpoint, prefix: detection.strippedPrefix)
    return SourceDraft(
      checkpoint: checkpoint, unwrapped: unwrapped, config: configJSON, configPath: configPath,
      detection: detection, algorithm: algorithm, kwargs: kwargs)
  }

  /// Finds the verifier's token embedding when a draft needs it: in the local verifier, or in
  /// the one shard of a Hub or URL verifier fetched for it (recorded in `fetched`).
  private static func embeddingLocator(
    _ request: ConversionRequest, verifier: VerifierModel, open: @escaping CheckpointOpener,
    fetched: FetchedRangeBox
  ) -> EmbeddingLocator {
    let verifierSource = request.verifier
    let fetch = request.fetch
    return { () throws in
      guard verifierSource.origin != .local else { return try verifier.locateEmbeddings(open: open) }
      // Hub or URL verifier: fetch the index and the one shard holding the embedding, open only it.
      guard let fetch else {
        throw UsageError(
          verifierSource.given,
          reason: "the verifier's token embedding is needed but no source fetcher was given")
      }
      let withWeights = try fetch(verifierSource.given, .embeddings)
      let located = try verifier.locateEmbeddings(in: withWeights, open: open)
      fetched.set(located.fetched)
      return (located.tensor, located.file)
    }
  }

  /// The algorithm's plan of the output (tensors, config, drops, warnings), with source
  /// tensors named as stored.
  private static func planDraft(
    _ request: ConversionRequest, source: SourceDraft, verifier: VerifierModel, reader: TensorReader,
    locateEmbeddings: @escaping EmbeddingLocator
  ) throws -> ConversionDraft {
    let inputs = ConversionInputs(
      checkpoint: source.unwrapped.checkpoint, config: ModelConfig(source.config), configPath: source.configPath,
      verifier: verifier, kwargs: source.kwargs, dtype: request.dtype, allowDrop: request.allowDrop,
      dropUnknown: request.dropUnknown, locateEmbeddings: locateEmbeddings, reader: reader)
    var draft: ConversionDraft
    switch source.algorithm {
    case .eagle: draft = try EagleConversion.build(inputs)
    case .eagle3: draft = try Eagle3Conversion.build(inputs)
    case .dflash: draft = try DFlashConversion.build(inputs)
    }
    let unwrapped = source.unwrapped
    if let prefix = source.detection.strippedPrefix, !unwrapped.storedNames.isEmpty {
      // Report and record source tensors under their stored names.
      for index in draft.tensors.indices where draft.tensors[index].origin == .draft {
        if let name = draft.tensors[index].source?.name {
          draft.tensors[index].source?.name = unwrapped.storedName(name)
        }
      }
      for index in draft.dropped.indices {
        draft.dropped[index].name = unwrapped.storedName(draft.dropped[index].name)
      }
      draft.warnings.append(
        "tensor names carry the wrapper prefix '\(prefix)' (\(source.detection.format.rawValue)); it is removed before mapping")
    }
    return draft
  }

  /// Writes the planned output into a temporary sibling (tensors, config, manifest), checks it
  /// when asked, and renames it into place; on any error the temporary is removed.
  private static func writeOutput(
    _ request: ConversionRequest, source: SourceDraft, verifier: VerifierModel, draft: ConversionDraft,
    reader: TensorReader, open: @escaping CheckpointOpener, chunkSize: Int, embeddingsFetched: FetchedRangeBox,
    progress: ProgressHandler?
  ) throws -> ConversionReport {
    let output = try AtomicOutputDirectory.create(at: request.outputPath, force: request.force)
    // Source digests for the manifest are independent of the output: hash them meanwhile.
    let sourceDigests = BackgroundFileDigests(hashedSourceFiles(of: source.checkpoint).map(\.path))
    do throws {
      let writer = SafetensorsWriter(maxShardSize: request.maxShardSize, chunkSize: chunkSize)
      let written = try writer.write(
        draft.tensors.map(\.entry), into: output.temporaryPath, reader: reader,
        displayDirectory: output.finalPath, progress: progress)
      let configFile = try SafetensorsWriter.writeText(
        JSONWriter.pretty(draft.config) + "\n", named: "config.json", in: output.temporaryPath,
        displayDirectory: output.finalPath)
      progress?(.stage("hashing source files"))
      let manifest = try makeManifest(
        request: request, algorithm: source.algorithm, kwargs: source.kwargs, model: request.model,
        checkpoint: source.checkpoint, detection: source.detection, verifier: verifier, draft: draft,
        written: written, outputFiles: written.files + [configFile], sourceDigests: try sourceDigests.result(),
        embeddingsFetched: embeddingsFetched.value)
      let manifestFile = try SafetensorsWriter.writeText(
        manifest.text(), named: AuditManifest.fileName, in: output.temporaryPath,
        displayDirectory: output.finalPath)
      let validation = try validate(
        request, output: output, verifier: verifier, open: open, progress: progress)
      try output.commit()
      return makeReport(
        request: request, algorithm: source.algorithm, detection: source.detection, model: request.model,
        verifier: verifier, draft: draft, manifest: manifest, files: manifest.files + [manifestFile],
        validation: validation)
    } catch {
      sourceDigests.wait()
      output.discard()
      throw error
    }
  }

  /// `--validate-device`: verify's full checks on the written output before it is moved into
  /// place; `nil` when not asked for.
  private static func validate(
    _ request: ConversionRequest, output: AtomicOutputDirectory, verifier: VerifierModel,
    open: @escaping CheckpointOpener, progress: ProgressHandler?
  ) throws -> ConversionReport.Validation? {
    guard let device = request.validateDevice else { return nil }
    let validated = try OutputValidator.validate(
      directory: output.temporaryPath, displayDirectory: output.finalPath, verifier: verifier.configPath,
      open: open, progress: progress)
    let note =
      device == "cpu"
      ? "no forward pass is run: the verify checks (structure, verifier fit, digests, content) only"
      : "validation device \(device) not applicable: no forward pass is run; structural checks done on cpu"
    return .init(device: device, checks: validated.checks, notes: [note], report: validated.report)
  }

  /// Resolves `auto` and refuses an algorithm that contradicts the detected layout, unless
  /// `ignoringDetection` (the user knows better than the detector).
  private static func chooseAlgorithm(
    _ choice: AlgorithmChoice, detection: Detection, location: String, ignoringDetection: Bool
  ) throws -> ConversionAlgorithm {
    switch choice {
    case .auto:
      guard let detected = detection.conversion.algorithm else {
        if detection.format != .unknown, let reason = detection.conversion.reason {
          throw ConversionError(
            .refused, file: location,
            reason: "cannot convert: \(detection.format.rawValue) (\(detection.signature)): \(reason)")
        }
        throw ConversionError(
          .refused, file: location,
          reason: "cannot choose an algorithm: \(detection.format.rawValue) (\(detection.signature)); "
            + "pass --algorithm eagle, eagle3 or dflash")
      }
      return detected
    case .eagle, .eagle3, .dflash:
      guard let chosen = ConversionAlgorithm(rawValue: choice.rawValue) else {
        throw UsageError(location, reason: "unknown algorithm \(choice.rawValue)")
      }
      if !ignoringDetection, let conflict = detection.conflict(withRequested: chosen) {
        throw ConversionError(
          .refused, file: location, reason: conflict + " (--ignore-detection converts anyway)")
      }
      return chosen
    }
  }

  /// Refuses an output directory that is (or contains) the source or the verifier.
  private static func checkOutputIsSeparate(_ outputPath: String, from inputs: [String])
    throws
  {
    let output = canonicalPath(outputPath)
    for input in inputs {
      let directory = canonicalPath(input)
      if output == directory || directory.hasPrefix(output + "/") {
        throw ConversionError(
          .output, file: outputPath, reason: "the output path is (or contains) an input checkpoint")
      }
    }
  }

  /// The source files whose SHA-256 the manifest records (weights, index and config).
  private static func hashedSourceFiles(of checkpoint: Checkpoint) -> [CheckpointFile] {
    checkpoint.files.filter { [.safetensors, .torchZip, .index, .config].contains($0.kind) }
  }

  private static func makeManifest(
    request: ConversionRequest, algorithm: ConversionAlgorithm, kwargs: AlgorithmKwargs,
    model: ResolvedSource,
    checkpoint: Checkpoint, detection: Detection, verifier: VerifierModel, draft: ConversionDraft,
    written: SafetensorsWriter.Output, outputFiles: [AuditManifest.FileDigest],
    sourceDigests digests: [String: String], embeddingsFetched: FetchedRange?
  ) throws -> AuditManifest {
    let hashed = hashedSourceFiles(of: checkpoint)
    let sourceFiles = hashed.map { AuditManifest.FileDigest(name: $0.name, size: $0.size, sha256: digests[$0.path] ?? "") }
    let writtenByName = Dictionary(
      written.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var tensors: [AuditManifest.Tensor] = []
    for planned in draft.tensors {
      guard let result = writtenByName[planned.entry.name] else { continue }
      let source: AuditManifest.TensorSource
      switch planned.origin {
      case .synthesized:
        if case .fill(let fill) = planned.entry.content {
          source = .init(origin: .synthesized, fill: fill.rawValue)
        } else {
          source = .init(origin: .synthesized)
        }
      case .draft, .verifier:
        source = .init(
          origin: planned.origin, name: planned.source?.name, dtype: planned.source?.dtype,
          xxh3: result.sourceXXH3)
      }
      tensors.append(
        .init(
          name: result.name, dtype: result.dtype, shape: result.shape, file: result.file, xxh3: result.xxh3,
          source: source))
    }
    return AuditManifest(
      options: .init(
        algorithm: algorithm.rawValue, algorithmKwargs: kwargs.json, dtype: request.dtype?.torchName,
        maxShardSize: request.maxShardSize, validateDevice: request.validateDevice,
        outputPath: request.outputPath,
        allowDrop: request.allowDrop, dropUnknown: request.dropUnknown),
      source: .init(
        given: model.given, resolvedPath: model.path, hubID: model.hubID, revision: model.revision,
        format: detection.format.rawValue, files: sourceFiles),
      verifier: .init(
        given: verifier.given, resolvedPath: verifier.provenance.resolvedPath,
        configSHA256: verifier.configSHA256,
        embeddingsFile: draft.embeddingsFile, embeddingsFetched: embeddingsFetched),
      tensors: tensors,
      dropped: draft.dropped.map { .init(name: $0.name, reason: $0.reason) },
      files: outputFiles)
  }

  private static func makeReport(
    request: ConversionRequest, algorithm: ConversionAlgorithm, detection: Detection,
    model: ResolvedSource,
    verifier: VerifierModel, draft: ConversionDraft, manifest: AuditManifest,
    files: [AuditManifest.FileDigest],
    validation: ConversionReport.Validation?
  ) -> ConversionReport {
    let mapped = manifest.tensors.map { tensor in
      ConversionReport.MappedTensor(
        name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, file: tensor.file,
        origin: tensor.source.origin,
        sourceName: tensor.source.name, sourceDType: tensor.source.dtype)
    }
    let serving = serving(request: request, algorithm: algorithm, verifier: verifier, draft: draft)
    var warnings = draft.warnings
    if let refusal = serving.refusal {
      warnings.append("the output is not served by vLLM: " + refusal + (serving.alternative.map { "; \($0)" } ?? ""))
    }
    return ConversionReport(
      outputPath: request.outputPath, resolvedOutputPath: canonicalPath(request.outputPath),
      algorithm: algorithm, sourceFormat: detection.format.rawValue, source: SourceProvenance(model),
      verifier: verifier.provenance,
      files: files.sorted { $0.name < $1.name }, tensors: mapped, dropped: draft.dropped, flags: draft.flags,
      warnings: warnings, validation: validation, serving: serving)
  }

  /// Whether vLLM serves the output; the commands use the paths as given, as the config does.
  static func serving(
    request: ConversionRequest, algorithm: ConversionAlgorithm, verifier: VerifierModel,
    draft: ConversionDraft
  ) -> ConversionReport.Serving {
    let layernorms = draft.flags.contains { $0.key == "layernorms" && $0.value == .bool(true) }
    return ConversionReport.Serving(
      output: request.outputPath, method: algorithm.rawValue, verifier: verifier.provenance.given,
      speculativeTokens: Int(SpeculatorsConfigBuilder.speculativeTokens), source: request.model.given,
      layernorms: layernorms)
  }
}

/// Converts `model` to the Speculators format: the library form of `speculators convert`
/// (the Python reference's `convert_model`).
///
/// - Parameters:
///   - model: the draft, resolved to local files (``ResolvedSource/local(_:given:)`` for a path).
///   - algorithm: `eagle`, `eagle3`, `dflash` or `auto`.
///   - verifier: the verifier, resolved for its `config.json`; the one weights file holding its
///     embeddings is read (through `fetch` for a Hub or URL verifier) when an EAGLE-3 draft has
///     none. Its `given` is written to `verifier.name_or_path`.
///   - fetch: resolves more of a non-local verifier (see ``SourceFetcher``).
///   - outputPath: the output directory.
///   - validateDevice: when set, the output is checked before being moved into place.
///   - algorithmKwargs: the algorithm's options (see ``AlgorithmKwargs``).
///   - dtype: the float dtype to write; `nil` keeps the source's.
///   - force: replace an existing non-empty output directory.
///   - maxShardSize: bytes of tensor data per shard.
///   - allowDrop: tensor names (or `prefix*`) that may be left out.
///   - dropUnknown: leave out every tensor the layout does not know.
/// - Returns: what was written.
@discardableResult
public func convertModel(
  model: ResolvedSource, algorithm: AlgorithmChoice, verifier: ResolvedSource, fetch: SourceFetcher? = nil,
  outputPath: String = Converter.defaultOutputPath,
  validateDevice: String? = nil, algorithmKwargs: AlgorithmKwargs = AlgorithmKwargs(), dtype: DType? = nil,
  force: Bool = false, maxShardSize: Int = SafetensorsWriter.defaultMaxShardSize, allowDrop: [String] = [],
  dropUnknown: Bool = false
) throws -> ConversionReport {
  try Converter.convert(
    ConversionRequest(
      model: model, verifier: verifier, fetch: fetch, algorithm: algorithm,
      outputPath: outputPath, algorithmKwargs: algorithmKwargs, validateDevice: validateDevice, dtype: dtype,
      force: force, maxShardSize: maxShardSize, allowDrop: allowDrop, dropUnknown: dropUnknown))
}
