import Inspect

/// `speculators verify`: turns every known cause of a draft that loads but is never accepted
/// into an explicit finding (catalogue in `docs/checks.md`).
///
/// Header and config checks read no tensor data. `scanContent` adds value checks,
/// `manifest` re-hashes against the audit manifest, and a resolvable verifier adds the
/// compatibility checks; checks that cannot run are reported as skipped, never as passed.
///
/// ```swift
/// let report = try Verifier.verify(path: "converted", options: VerifyOptions(verifier: "Llama-3.1-8B"))
/// if report.hasErrors { ... }
/// ```
public enum Verifier {
  /// Opens the checkpoint at `path` (headers only) and verifies it.
  ///
  /// - Throws: ``CheckpointError`` for input errors: an unreadable checkpoint, verifier or
  ///   manifest, or a checkpoint that is no recognisable draft; ``UsageError`` for a draft
  ///   given as `--verifier`.
  ///
  /// - Parameter progress: receives `reading` updates (bytes read of bytes to read) while
  ///   `--content` and `--manifest` read tensor and file bytes, from worker threads.
  public static func verify(
    path: String, options: VerifyOptions = VerifyOptions(),
    progress: ProgressHandler? = nil
  ) throws -> VerifyReport {
    try verify(checkpoint: CheckpointReader.open(path), options: options, progress: progress)
  }

  /// Verifies an opened checkpoint, in stages: the config, the tensor table and the header
  /// checks against it, the verifier, the probe, then the checks that read bytes. Checks that
  /// cannot run are skipped from what they declare they need (``CheckCatalogue/Need``) and the
  /// stage's reason for it; checks that do not apply to the kind of checkpoint, from what they
  /// declare they apply to.
  public static func verify(
    checkpoint: Checkpoint, options: VerifyOptions = VerifyOptions(),
    progress: ProgressHandler? = nil
  ) throws -> VerifyReport {
    let run = VerificationRun(checkpoint: checkpoint, options: options)
    if let progress {
      run.progress = ProgressCounter(task: "reading", total: bytesToRead(checkpoint, options), handler: progress)
    }
    var unmet: [CheckCatalogue.Need: String] = [:]
    let hasConfig = checkConfig(run)
    let classification = try DraftClassification.classify(checkpoint, model: run.model)
    run.view = classification.view
    let table = tensorTable(run, classification, hasConfig: hasConfig)
    run.expected = table.set
    if let set = table.set {
      checkHeaders(run, table: set)
    } else {
      unmet[.tensorTable] = table.reason
    }
    DTypeChecks.check(run)
    try ShardIndexChecks.check(run)
    let verifier = try checkVerifier(run, table: table.set)
    if case .unavailable(let reason) = verifier.resolution { unmet[.verifier] = reason }
    ProbeChecks.check(run, verifier: verifier.resolved)
    let manifestPath = try checkBytes(run, table: table.set, verifier: verifier.resolved, unmet: &unmet)
    run.skipUnmet(unmet)

    var strippedPrefix: String?
    if case .source = classification.kind { strippedPrefix = classification.detection.strippedPrefix }
    return VerifyReport(
      location: checkpoint.location, layout: table.set?.layout,
      detectedFormat: classification.detection.format.rawValue,
      strippedPrefix: strippedPrefix, verifier: verifier.used,
      contentScanned: options.scanContent, manifest: manifestPath, findings: run.orderedFindings,
      skipped: run.orderedSkips, notApplicable: run.notApplicableChecks, checksRun: run.checksRun)
  }

  /// The config's presence, bounds and attention heads; the checks that compute with its
  /// values are skipped when there is none. Returns whether there is one.
  private static func checkConfig(_ run: VerificationRun) -> Bool {
    let hasConfig = ConfigChecks.checkPresence(run)
    if hasConfig, let config = run.config, let model = run.model {
      ConfigChecks.checkBounds(run, config, file: "config.json")
      let layer = model.layer
      ConfigChecks.checkAttentionHeads(
        run, layer: layer ?? model, prefix: layer == nil ? "" : "transformer_layer_config.")
    } else {
      run.skip(CheckCatalogue.ids(needing: .config), "no config.json")
    }
    return hasConfig
  }

  /// The tensor table the checkpoint is checked against, or why there is none; runs the
  /// checks of the Speculators config (and marks those that do not apply to the kind).
  private static func tensorTable(
    _ run: VerificationRun, _ classification: DraftClassification, hasConfig: Bool
  ) -> (set: ExpectedTensors.TensorSet?, reason: String) {
    var table: ExpectedTensors.TensorSet?
    var noTable = "no config.json"
    switch classification.kind {
    case .speculators(let type):
      ConfigChecks.checkSpeculators(run, type: type)
      if let config = run.config {
        do {
          table = try ExpectedTensors.speculators(config: config)
        } catch {
          noTable = error.reason
        }
      }
    case .speculatorsUntyped:
      if hasConfig { ConfigChecks.checkSpeculators(run, type: nil) }
      noTable = "speculators_model_type is missing, so the model class is unknown"
    case .mtpVerifier:
      run.notApplicable(CheckCatalogue.ids(notApplyingTo: .mtpVerifier))
      MTPChecks.check(run, detection: classification.detection)
      noTable = "a causal LM with MTP layers, not a draft: only its MTP layers are checked"
    case .source(let layout):
      if layout == .eagle1Source {  // served as is with method "eagle": vLLM's verdict applies
        run.notApplicable(CheckCatalogue.ids(notApplyingTo: .servedSource))
        ConfigChecks.checkOriginalEagleServing(run)
      } else {
        run.notApplicable(CheckCatalogue.ids(notApplyingTo: .source))
      }
      if let config = run.config {
        do {
          table = try ExpectedTensors.source(layout, config: config)
        } catch {
          noTable = error.reason
        }
      }
    }
    return (table, noTable)
  }

  /// The header checks against the tensor table: names, shapes and dtypes, layers, feature
  /// flags and the vocabulary maps' headers.
  private static func checkHeaders(_ run: VerificationRun, table: ExpectedTensors.TensorSet) {
    let layers = TensorChecks.check(run, table: table)
    FlagChecks.check(run, table: table, absentLayers: layers.absent)
    VocabMapChecks.checkHeaders(run, table: table)
  }

  /// The verifier as resolved, with what the report says about it.
  private struct VerifierStage {
    var resolution: VerifierResolution.Outcome
    var resolved: ResolvedVerifier?
    var used: VerifyReport.VerifierUsed?
  }

  /// Resolves the verifier (even without a table, so that a bad `--verifier` is always an
  /// input error), bounds its config and runs the compatibility checks.
  private static func checkVerifier(_ run: VerificationRun, table: ExpectedTensors.TensorSet?)
    throws -> VerifierStage
  {
    if !run.has("embed_tokens.weight") { run.notApplicable([.verifierEmbeddingsMatch]) }
    let resolution = try VerifierResolution.resolve(run)
    guard case .resolved(let verifier) = resolution else {
      return VerifierStage(resolution: resolution, resolved: nil, used: nil)
    }
    ConfigChecks.checkBounds(
      run, verifier.config.json, file: verifier.configPath, owner: "verifier \(verifier.given): ")
    if let table { VerifierCompatibilityChecks.check(run, table: table, verifier: verifier) }
    return VerifierStage(
      resolution: resolution, resolved: verifier,
      used: VerifyReport.VerifierUsed(given: verifier.given, directory: verifier.directory, source: verifier.source))
  }

  /// The checks that read tensor and file bytes (`--content`, `--manifest`): what they need is
  /// planned (recording nothing) and read in one concurrent pass before they run. Records in
  /// `unmet` why they could not run; returns the manifest checked against.
  private static func checkBytes(
    _ run: VerificationRun, table: ExpectedTensors.TensorSet?, verifier: ResolvedVerifier?,
    unmet: inout [CheckCatalogue.Need: String]
  ) throws(CheckpointError) -> String? {
    let options = run.options
    var embedding: VerifierCompatibilityChecks.EmbeddingComparison?
    if options.scanContent, table != nil, let verifier {
      embedding = VerifierCompatibilityChecks.embeddingComparison(run, verifier: verifier)
    }
    let manifestPath = ManifestChecks.manifestPath(run)
    let manifest = manifestPath.map { ManifestChecks.prepare(run, manifestPath: $0) }
    var request = TensorScan.Request()
    if options.scanContent {
      request.statistics = ContentChecks.tensors(run)
      if case .compare(let draft, let verifier) = embedding {
        request.uncountedDigests = [draft]
        request.castDigest = (verifier, draft.dtype)
      }
    }
    if let manifest {
      (request.fileDigests, request.tensorDigests) = ManifestChecks.request(run, manifest)
    }
    let scan = TensorScan(request, reader: run.reader, progress: run.progress)

    if options.scanContent {
      // An embedding equal to the verifier's is trusted even if it looks like an init draw.
      var matchingVerifier: Set<String> = []
      if let embedding, try VerifierCompatibilityChecks.checkEmbeddingValues(run, embedding, scan: scan) {
        matchingVerifier.insert("embed_tokens.weight")
      }
      try ContentChecks.check(run, scan: scan, matchingVerifier: matchingVerifier)
      if let table { try VocabMapChecks.checkContent(run, table: table) }
    } else {
      unmet[.content] = "tensor values not read (pass --content)"
    }

    if let manifest {
      try ManifestChecks.check(run, manifest, scan: scan)
    } else {
      let present = FileSystem.isRegularFile(FileSystem.join(run.checkpoint.directory, AuditManifest.fileName))
      unmet[.manifest] =
        present
        ? "\(AuditManifest.fileName) present but not requested (pass --manifest)"
        : "no manifest requested (pass --manifest [FILE])"
    }
    return manifestPath
  }

  /// The bytes `--content` and `--manifest` will read, for progress reporting.
  static func bytesToRead(_ checkpoint: Checkpoint, _ options: VerifyOptions) -> Int {
    var total = 0
    if options.scanContent {
      total += checkpoint.tensors.filter { ElementCodec.floatTypes.contains($0.dtype) }.reduce(0) { $0 + $1.byteCount }
    }
    if options.manifest != .none {
      total += checkpoint.files.filter { $0.kind != .manifest }.reduce(0) { $0 + $1.size }
      total += checkpoint.totalTensorBytes
    }
    return total
  }
}
