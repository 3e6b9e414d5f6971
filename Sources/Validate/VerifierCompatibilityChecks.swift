import Inspect

/// Draft ↔ verifier compatibility (`docs/checks.md`): hidden size, vocabulary,
/// fc input width, aux layer ids, embeddings. Header and config only, except the embedding
/// comparison, which needs `--content` and the verifier's weights.
enum VerifierCompatibilityChecks {
  static let headerIDs: [CheckID] = [
    .verifierHiddenSize, .verifierVocabSize, .verifierFCWidth, .verifierAuxLayerIDs, .verifierDefaultTaps, .verifierEmbeddingsShape,
    .verifierArchitectures,
  ]
  static let allIDs = headerIDs + [.verifierEmbeddingsMatch]

  static func check(_ run: VerificationRun, table: ExpectedTensors.TensorSet, verifier: ResolvedVerifier) {
    let g = table.geometry
    let speculators = table.layout.isSpeculators
    let prefix = speculators ? "transformer_layer_config." : ""
    let source = "verifier \(verifier.given)"

    // Hidden size: eagle concatenates the verifier's last hidden state (H == Hv); eagle3 builds
    // the fc input from TH-wide verifier states.
    if let hv = verifier.hiddenSize {
      run.ran(.verifierHiddenSize)
      if table.layout.fusesAuxStates {
        let explicit = run.model?.int("target_hidden_size") != nil
        if g.targetHiddenSize != hv {
          let key = explicit ? "target_hidden_size" : prefix + "hidden_size"
          run.report(
            .verifierHiddenSize, .error, key: key, expected: String(hv), found: String(g.targetHiddenSize),
            "\(key): expected \(hv) (hidden_size of \(source))"
              + (explicit ? "" : " because target_hidden_size is absent") + ", found \(g.targetHiddenSize)")
        }
      } else if g.hiddenSize != hv {
        run.report(
          .verifierHiddenSize, .error, key: prefix + "hidden_size", expected: String(hv),
          found: String(g.hiddenSize),
          "\(prefix)hidden_size: expected \(hv) (hidden_size of \(source); eagle drafts share it), "
            + "found \(g.hiddenSize)")
      }
    } else {
      run.skip([.verifierHiddenSize, .verifierFCWidth], "\(source) has no hidden_size")
    }

    // Vocabulary.
    if let vv = verifier.vocabSize {
      run.ran(.verifierVocabSize)
      let key = VocabMapChecks.vocabKey(table)
      if g.vocabSize != vv {
        run.report(
          .verifierVocabSize, .error, key: key, expected: String(vv), found: String(g.vocabSize),
          "\(key): expected \(vv) (vocab_size of \(source)), found \(g.vocabSize)")
        if table.layout.isEagle3 && g.vocabSize == g.draftVocabSize && vv > g.vocabSize
          && run.findings.allSatisfy({ $0.check != .vocabDraftEqualsTarget })
        {
          VocabMapChecks.reportDraftEqualsTarget(
            run, table: table, evidence: ["\(source) has vocab_size \(vv)"], larger: String(vv))
        }
      }
    } else {
      run.skip([.verifierVocabSize], "\(source) has no vocab_size")
    }

    // fc input width.
    let fcName = table.layout == .speculatorsEagle ? "fusion_fc.weight" : "fc.weight"
    if let hv = verifier.hiddenSize, let fc = run.view.tensor(named: fcName), fc.shape.count == 2 {
      run.ran(.verifierFCWidth)
      let multiplier = table.layout.fusesAuxStates ? g.auxStateCount : 2
      let expected = multiplier * hv
      if fc.shape[1] != expected {
        let rule =
          table.layout.fusesAuxStates
          ? "\(multiplier) aux hidden states × verifier hidden \(hv)"
          : "embedding ⊕ verifier hidden: 2 × \(hv)"
        run.report(
          .verifierFCWidth, .error, tensor: fcName, expected: "[\(g.hiddenSize), \(expected)]",
          found: formatShape(fc.shape),
          "tensor '\(fcName)': input width expected \(expected) (\(rule)), found \(fc.shape[1])")
      }
    }

    checkAuxLayerIDs(run, table: table, verifier: verifier)
    checkEmbeddingShape(run, table: table, verifier: verifier)

    if let declared = run.config?["speculators_config"]?["verifier"]?["architectures"]?.arrayValue?
      .compactMap(\.stringValue), let actual = verifier.config.architectures
    {
      run.ran(.verifierArchitectures)
      if declared != actual {
        run.report(
          .verifierArchitectures, .warning, key: "speculators_config.verifier.architectures",
          expected: formatList(actual), found: formatList(declared),
          "speculators_config.verifier.architectures: expected \(formatList(actual)) (\(source)), found "
            + formatList(declared))
      }
    } else {
      run.skip([.verifierArchitectures], "architectures absent from the draft config or the verifier config")
    }
  }

  private static func checkAuxLayerIDs(
    _ run: VerificationRun, table: ExpectedTensors.TensorSet, verifier: ResolvedVerifier
  ) {
    guard table.layout.fusesAuxStates, table.layout != .dflashSource else {
      // eagle drafts read only the last hidden state; raw DFlash ids are z-lab's target_layer_ids.
      run.notApplicable([.verifierAuxLayerIDs])
      return
    }
    let key =
      table.layout.isSpeculators
      ? table.layout.auxLayerIDsKey : "eagle_config.eagle_aux_hidden_state_layer_ids"
    let raw =
      run.config?[table.layout.auxLayerIDsKey]
      ?? run.config?["eagle_config"]?["eagle_aux_hidden_state_layer_ids"]
    guard let layers = verifier.layerCount else {
      run.skip([.verifierAuxLayerIDs, .verifierDefaultTaps], "verifier \(verifier.given) has no num_hidden_layers")
      return
    }
    guard let ids = raw?.arrayValue?.compactMap(\.intValue), !ids.isEmpty else {
      run.skip([.verifierAuxLayerIDs], "no \(table.layout.auxLayerIDsKey) (vLLM picks its default taps or refuses)")
      if table.layout.isEagle3 {
        checkDefaultTaps(run, key: key, layers: layers, verifier: verifier)
      } else {
        run.notApplicable([.verifierDefaultTaps])  // DFlash has no default taps
      }
      return
    }
    run.notApplicable([.verifierDefaultTaps])
    run.ran(.verifierAuxLayerIDs)
    // vLLM's EAGLE-3 taps the input of layer i, and i = L is the last layer's output
    // (VLLMServing); a raw eagle_config counts layer outputs, and DFlash excludes the last layer,
    // so their ids stop at L - 1.
    let highest =
      table.layout.isSpeculators && table.layout.isEagle3
      ? VLLMServing.highestAuxLayerID(verifierLayers: layers) : layers - 1
    let bad = ids.filter { $0 < 0 || $0 > highest }
    if !bad.isEmpty {
      run.report(
        .verifierAuxLayerIDs, .error, key: key, expected: "ids in 0...\(highest)", found: formatShape(ids),
        "\(key): expected ids in 0...\(highest) (verifier \(verifier.given) has \(layers) layers), found "
          + "\(formatShape(ids)); out of range: \(formatShape(bad))")
    }
  }

  /// `verifier.default-taps`: without aux ids vLLM taps (2, L/2, L-3); they must be distinct
  /// layers of the verifier.
  private static func checkDefaultTaps(
    _ run: VerificationRun, key: String, layers: Int, verifier: ResolvedVerifier
  ) {
    run.ran(.verifierDefaultTaps)
    guard let problem = VLLMServing.defaultTapsProblem(verifierLayers: layers) else { return }
    let taps = VLLMServing.defaultAuxLayerIDs(verifierLayers: layers)
    run.report(
      .verifierDefaultTaps, .error, key: key, expected: "aux layer ids vLLM can tap",
      found: "absent (default taps \(formatShape(taps)))",
      "\(key): expected explicit ids, found none: \(problem) (verifier \(verifier.given)), so fc gets "
        + "fewer hidden states than it takes and vLLM fails at the first decode step; write the draft's "
        + "trained taps (convert --algorithm-kwargs '{\"eagle_aux_hidden_state_layer_ids\": [...]}')")
  }

  private static func checkEmbeddingShape(
    _ run: VerificationRun, table: ExpectedTensors.TensorSet, verifier: ResolvedVerifier
  ) {
    guard let hv = verifier.hiddenSize, let vv = verifier.vocabSize else {
      run.skip([.verifierEmbeddingsShape], "verifier \(verifier.given) lacks hidden_size or vocab_size")
      return
    }
    run.ran(.verifierEmbeddingsShape)
    let h = table.geometry.hiddenSize
    if let embed = run.view.tensor(named: "embed_tokens.weight") {
      if embed.shape != [vv, h] {
        run.report(
          .verifierEmbeddingsShape, .error, tensor: embed.name, expected: formatShape([vv, h]),
          found: formatShape(embed.shape),
          "tensor 'embed_tokens.weight': expected \(formatShape([vv, h])) (verifier vocab × draft hidden), "
            + "found \(formatShape(embed.shape))")
      }
    } else if table.layout.fusesAuxStates && h != hv {
      run.report(
        .verifierEmbeddingsShape, .error, tensor: "embed_tokens.weight", expected: "present ([\(vv), \(h)])",
        found: "absent",
        "tensor 'embed_tokens.weight': expected present because the draft hidden size \(h) differs from the "
          + "verifier's \(hv) (no embedding of the right width can be borrowed), found absent")
    }
  }

  /// What `verifier.embeddings-match` will compare, decided from headers alone (the verifier's
  /// weights are opened, not read), so that the bytes can be read with the other content checks'.
  enum EmbeddingComparison {
    /// The draft has no `embed_tokens.weight`.
    case notApplicable
    /// The check cannot run, for this reason.
    case skipped(String)
    /// The draft's embedding against the verifier's, once cast to the draft's dtype.
    case compare(draft: TensorInfo, verifier: TensorInfo)
  }

  /// Plans `verifier.embeddings-match` for the draft of `run` and `verifier`, recording nothing.
  static func embeddingComparison(_ run: VerificationRun, verifier: ResolvedVerifier) -> EmbeddingComparison {
    guard let draft = run.view.tensor(named: "embed_tokens.weight") else { return .notApplicable }
    let target: Checkpoint
    do {
      target = try CheckpointReader.open(verifier.directory)
    } catch {
      return .skipped("verifier weights unreadable: \(error.description)")
    }
    guard let embedding = VerifierConfig.embedding(in: target) else {
      return .skipped("verifier \(verifier.given) has no embed_tokens tensor")
    }
    guard embedding.shape == draft.shape else {
      return .skipped("shapes differ (see verifier.embeddings-shape)")
    }
    guard ElementCodec.castTypes.contains(draft.dtype), ElementCodec.floatTypes.contains(embedding.dtype) else {
      return .skipped(
        "dtypes \(draft.dtype.rawValue) and \(embedding.dtype.rawValue) cannot be compared exactly")
    }
    return .compare(draft: draft, verifier: embedding)
  }

  /// `verifier.embeddings-match`: compares the draft's `embed_tokens.weight` with the verifier's
  /// embedding (content), as planned by ``embeddingComparison(_:verifier:)``, from the digests in
  /// `scan`: the XXH3 of the draft's bytes against that of the verifier's values cast to the
  /// draft's dtype (its raw bytes when the dtypes agree).
  ///
  /// - Returns: whether the embeddings were compared and are equal.
  @discardableResult
  static func checkEmbeddingValues(_ run: VerificationRun, _ comparison: EmbeddingComparison, scan: TensorScan)
    throws(CheckpointError) -> Bool
  {
    let draft: TensorInfo
    let embedding: TensorInfo
    switch comparison {
    case .notApplicable:
      run.notApplicable([.verifierEmbeddingsMatch])  // the draft has no embed_tokens.weight
      return false
    case .skipped(let reason):
      run.skip([.verifierEmbeddingsMatch], reason)
      return false
    case .compare(let draftTensor, let verifierTensor):
      draft = draftTensor
      embedding = verifierTensor
    }
    run.ran(.verifierEmbeddingsMatch)
    let draftDigest = try scan.digest(of: draft)
    let targetDigest = try scan.castDigest(of: embedding, to: draft.dtype)
    if draftDigest != targetDigest {
      run.report(
        .verifierEmbeddingsMatch, .warning, tensor: draft.name,
        expected: "equal to verifier '\(embedding.name)'",
        found: "different values",
        "tensor 'embed_tokens.weight': expected the verifier's '\(embedding.name)' values, found different "
          + "values (a random or stale embedding loads silently; vLLM may use the draft's copy)")
      return false
    }
    return true
  }

  private static func formatList(_ names: [String]) -> String {
    "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
  }
}

/// Digests that compare a draft's embedding with the verifier's after the cast a converter
/// applies (`tensor.to(draft dtype)`, by ``ElementCodec/cast(_:from:to:into:)``).
enum EmbeddingDigest {
  /// XXH3-128 of `tensor`'s values cast to `dtype`: its raw bytes when the dtypes agree, else
  /// every element cast to `dtype`.
  static func digest(_ tensor: TensorInfo, castTo dtype: DType, reader: TensorReader) throws(CheckpointError)
    -> String
  {
    guard tensor.dtype != dtype else { return try CheckpointHasher.xxh3(of: tensor, reader: reader) }
    var hasher = XXH3Hasher()
    var buffer: [UInt8] = []
    let source = tensor.dtype
    do {
      try reader.forEachChunk(of: tensor) { chunk in
        // Cache-sized pieces: the cast output is hashed while it is still in the L2 cache.
        var start = 0
        while start < chunk.count {
          let stop = min(chunk.count, start + TensorScan.blockSize)
          cast(UnsafeRawBufferPointer(rebasing: chunk[start..<stop]), from: source, to: dtype, into: &buffer)
          buffer.withUnsafeBytes { hasher.update($0) }
          start = stop
        }
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
    return hasher.finalizeHex()
  }

  /// `bytes` (whole `source` elements, one of ``ElementCodec/floatTypes``) cast to `target`
  /// into `buffer`, which is sized to fit; empty for a source the codec does not widen.
  static func cast(
    _ bytes: UnsafeRawBufferPointer, from source: DType, to target: DType, into buffer: inout [UInt8]
  ) {
    guard ElementCodec.floatTypes.contains(source), let inSize = source.bytesPerElement,
      let outSize = target.bytesPerElement
    else { return buffer.removeAll() }
    let count = bytes.count / inSize
    if buffer.count != count * outSize { buffer = [UInt8](repeating: 0, count: count * outSize) }
    buffer.withUnsafeMutableBytes { _ = ElementCodec.cast(bytes, from: source, to: target, into: $0) }
  }
}
