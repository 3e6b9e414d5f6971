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
  ///   manifest, or a checkpoint that is no recognisable draft.
  ///
  /// - Parameter progress: receives `reading` updates (bytes read of bytes to read) while
  ///   `--content` and `--manifest` read tensor and file bytes, from worker threads.
  public static func verify(
    path: String, options: VerifyOptions = VerifyOptions(),
    progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> VerifyReport {
    try verify(checkpoint: CheckpointReader.open(path), options: options, progress: progress)
  }

  /// Verifies an opened checkpoint.
  public static func verify(
    checkpoint: Checkpoint, options: VerifyOptions = VerifyOptions(),
    progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> VerifyReport {
    let run = VerificationRun(checkpoint: checkpoint, options: options)
    if let progress {
      run.progress = ProgressCounter(task: "reading", total: bytesToRead(checkpoint, options), handler: progress)
    }
    let hasConfig = ConfigChecks.checkPresence(run)
    if hasConfig, let config = run.config, let model = run.model {
      ConfigChecks.checkBounds(run, config, file: "config.json")
      let layer = model.layer
      ConfigChecks.checkAttentionHeads(
        run, layer: layer ?? model, prefix: layer == nil ? "" : "transformer_layer_config.")
    } else {
      run.skip([.configValueBounds, .configAttentionHeads], "no config.json")
    }
    let classification = try DraftClassification.classify(checkpoint, model: run.model)
    run.view = classification.view
    var strippedPrefix: String?
    if case .source = classification.kind { strippedPrefix = classification.detection.strippedPrefix }

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
      run.notApplicable(ConfigChecks.speculatorsIDs)
      MTPChecks.check(run, detection: classification.detection)
      noTable = "a causal LM with MTP layers, not a draft: only its MTP layers are checked"
    case .source(let layout):
      if layout == .eagle1Source {  // served as is with method "eagle": vLLM's verdict applies
        run.notApplicable(ConfigChecks.speculatorsIDs.filter { $0 != .configVLLMSupport })
        ConfigChecks.checkOriginalEagleServing(run)
      } else {
        run.notApplicable(ConfigChecks.speculatorsIDs)
      }
      if let config = run.config {
        do {
          table = try ExpectedTensors.source(layout, config: config)
        } catch {
          noTable = error.reason
        }
      }
    }
    run.expected = table

    let tensorIDs: [CheckID] = [
      .layersCount, .tensorsMissing, .tensorsUnexpected, .tensorsShape, .tensorsDType,
    ]
    if let table {
      let layers = TensorChecks.check(run, table: table)
      FlagChecks.check(run, table: table, absentLayers: layers.absent)
      VocabMapChecks.checkHeaders(run, table: table)
    } else {
      run.skip(tensorIDs + FlagChecks.allIDs + VocabMapChecks.headerIDs + VocabMapChecks.contentIDs, noTable)
    }
    DTypeChecks.check(run)
    try ShardIndexChecks.check(run)

    var verifierUsed: VerifyReport.VerifierUsed?
    var resolved: ResolvedVerifier?
    if !run.has("embed_tokens.weight") { run.notApplicable([.verifierEmbeddingsMatch]) }
    // Resolved even without a table, so that a bad --verifier is always an input error.
    switch try VerifierResolution.resolve(run) {
    case .resolved(let verifier):
      resolved = verifier
      ConfigChecks.checkBounds(
        run, verifier.config.json, file: verifier.configPath, owner: "verifier \(verifier.given): ")
      verifierUsed = VerifyReport.VerifierUsed(
        given: verifier.given, directory: verifier.directory, source: verifier.source)
      if let table {
        VerifierCompatibilityChecks.check(run, table: table, verifier: verifier)
      } else {
        run.skip(VerifierCompatibilityChecks.allIDs, noTable)
      }
    case .unavailable(let reason):
      run.skip(VerifierCompatibilityChecks.allIDs, table == nil ? noTable : reason)
    }

    ProbeChecks.check(run, verifier: resolved)

    // The content and manifest checks read tensor and file bytes: what they need is planned
    // here (recording nothing) and read in one concurrent pass before they run.
    var embedding: VerifierCompatibilityChecks.EmbeddingComparison?
    if options.scanContent, table != nil, let resolved {
      embedding = VerifierCompatibilityChecks.embeddingComparison(run, verifier: resolved)
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
      run.skip(
        ContentChecks.ids + VocabMapChecks.contentIDs + [.verifierEmbeddingsMatch],
        "tensor values not read (pass --content)")
    }

    if let manifest {
      try ManifestChecks.check(run, manifest, scan: scan)
    } else {
      let present = FileSystem.kind(of: joinPath(checkpoint.directory, ManifestChecks.fileName)) == .file
      run.skip(
        ManifestChecks.ids,
        present
          ? "\(ManifestChecks.fileName) present but not requested (pass --manifest)"
          : "no manifest requested (pass --manifest [FILE])")
    }

    return VerifyReport(
      location: checkpoint.location, layout: table?.layout,
      detectedFormat: classification.detection.format.rawValue,
      strippedPrefix: strippedPrefix, verifier: verifierUsed,
      contentScanned: options.scanContent, manifest: manifestPath, findings: run.orderedFindings,
      skipped: run.orderedSkips, notApplicable: run.notApplicableChecks, checksRun: run.checksRun)
  }

  /// The bytes `--content` and `--manifest` will read, for progress reporting.
  static func bytesToRead(_ checkpoint: Checkpoint, _ options: VerifyOptions) -> Int {
    var total = 0
    if options.scanContent {
      total += checkpoint.tensors.filter { FloatDecoding.supports($0.dtype) }.reduce(0) { $0 + $1.byteCount }
    }
    if options.manifest != .none {
      total += checkpoint.files.filter { $0.kind != .manifest }.reduce(0) { $0 + $1.size }
      total += checkpoint.totalTensorBytes
    }
    return total
  }
}
