import Inspect

/// EAGLE-3 vocabulary maps (`docs/checks.md`; the maps and their rules: ``VocabularyMaps``).
/// Header checks look at presence, dtypes and shapes; content checks (`--content`) at the values.
enum VocabMapChecks {
  static let headerIDs: [CheckID] = [
    .vocabDraftSize, .vocabMapsPresence, .vocabD2TDTypeShape, .vocabT2DDTypeShape, .vocabDraftEqualsTarget,
  ]
  static let contentIDs: [CheckID] = [.vocabT2DPopcount, .vocabD2TRange, .vocabT2DAgrees, .vocabIdentityMap]

  /// The config key holding the target vocabulary size for `table`.
  static func vocabKey(_ table: ExpectedTensors.TensorSet) -> String {
    table.layout.isSpeculators ? "transformer_layer_config.vocab_size" : "vocab_size"
  }

  /// Header checks.
  static func checkHeaders(_ run: VerificationRun, table: ExpectedTensors.TensorSet) {
    guard table.layout.isEagle3 else {
      run.notApplicable(headerIDs + contentIDs)  // eagle drafts use the verifier's vocabulary
      return
    }
    run.ran(headerIDs)
    let v = table.geometry.vocabSize
    let dv = table.geometry.draftVocabSize
    let vKey = vocabKey(table)
    if dv > v {
      run.report(
        .vocabDraftSize, .error, key: "draft_vocab_size", expected: "<= \(v) (\(vKey))", found: String(dv),
        "draft_vocab_size: expected at most \(vKey) = \(v), found \(dv)")
    }
    let d2t = run.view.tensor(named: "d2t")
    let t2d = run.view.tensor(named: "t2d")
    switch (d2t != nil, t2d != nil) {
    case (true, false):
      // vLLM never reads t2d, so serving works; speculators v0.3+ refuses one map without the
      // other, and t2d is derivable from d2t.
      run.report(
        .vocabMapsPresence, .warning, tensor: "t2d", expected: "present (d2t is present)", found: "absent",
        "tensor 't2d': expected present alongside d2t, found absent (vLLM ignores t2d, speculators "
          + "requires both or neither; t2d is derivable from d2t)")
    case (false, true):
      run.report(
        .vocabMapsPresence, .error, tensor: "d2t", expected: "present (t2d is present)", found: "absent",
        "tensor 'd2t': expected present alongside t2d, found absent "
          + "(without d2t draft id i becomes target id i)")
    case (false, false) where dv < v:
      run.report(
        .vocabMapsPresence, .error, tensor: "d2t", expected: "d2t and t2d (draft_vocab_size \(dv) < \(v))",
        found: "neither",
        "tensors 'd2t'/'t2d': expected both because draft_vocab_size \(dv) < \(vKey) \(v), found neither "
          + "(vLLM then maps draft id i to target id i: wrong tokens, near-zero acceptance)")
    default: break
    }
    if let d2t, d2t.dtype != VocabularyMaps.offsetsType || d2t.shape != [dv] {
      let found = "\(d2t.dtype.rawValue) \(formatShape(d2t.shape))"
      // vLLM copies a narrower integer map into its int64 parameter and serves it unchanged
      // (docs/vllm.md); any other dtype or shape is an error.
      let widened = d2t.shape == [dv] && VocabularyMaps.widenedOffsetTypes.contains(d2t.dtype)
      run.report(
        .vocabD2TDTypeShape, widened ? .warning : .error, tensor: "d2t", expected: "I64 [\(dv)]", found: found,
        "tensor 'd2t': expected I64 [\(dv)] (draft_vocab_size), found \(found)"
          + (widened ? " (vLLM widens it on load; speculators expects int64)" : ""))
    }
    if let t2d, t2d.dtype != VocabularyMaps.maskType || t2d.shape != [v] {
      let found = "\(t2d.dtype.rawValue) \(formatShape(t2d.shape))"
      run.report(
        .vocabT2DDTypeShape, .error, tensor: "t2d", expected: "BOOL [\(v)]", found: found,
        "tensor 't2d': expected BOOL [\(v)] (\(vKey)), found \(found)")
    }
    if dv == v {
      var evidence: [String] = []
      if let t2d, t2d.shape.count == 1, t2d.shape[0] > v {
        evidence.append("t2d covers \(t2d.shape[0]) target ids")
      }
      if let embed = run.view.tensor(named: "embed_tokens.weight"), embed.shape.count == 2, embed.shape[0] > v
      {
        evidence.append("embed_tokens.weight has \(embed.shape[0]) rows")
      }
      if let first = evidence.first {
        reportDraftEqualsTarget(run, table: table, evidence: evidence, larger: first)
      }
    }
  }

  /// Reports `vocab.draft-equals-target` with the evidence that the target vocabulary is larger.
  static func reportDraftEqualsTarget(
    _ run: VerificationRun, table: ExpectedTensors.TensorSet, evidence: [String], larger: String
  ) {
    let v = table.geometry.vocabSize
    let key = vocabKey(table)
    run.report(
      .vocabDraftEqualsTarget, .error, key: key, expected: "the target (verifier) vocabulary size",
      found: "\(v) (= draft_vocab_size)",
      "\(key): expected the target vocabulary size, found \(v) = draft_vocab_size although "
        + evidence.joined(separator: ", ") + " (vocab_size must be the verifier's)")
  }

  /// Content checks over the values of `d2t` and `t2d`.
  static func checkContent(_ run: VerificationRun, table: ExpectedTensors.TensorSet) throws(CheckpointError) {
    guard table.layout.isEagle3 else { return }
    let v = table.geometry.vocabSize
    let dv = table.geometry.draftVocabSize
    let d2tInfo = run.view.tensor(named: "d2t")
    let t2dInfo = run.view.tensor(named: "t2d")
    var d2t: [Int64]?
    var t2d: [Bool]?
    if let info = d2tInfo, info.dtype == VocabularyMaps.offsetsType, info.shape.count == 1 {
      d2t = VocabularyMaps.decodeOffsets(try run.reader.bytes(of: info), dtype: info.dtype)
    }
    if let info = t2dInfo, info.dtype == VocabularyMaps.maskType, info.shape.count == 1 {
      t2d = VocabularyMaps.decodeMask(try run.reader.bytes(of: info))
    }
    if d2tInfo == nil && t2dInfo == nil {
      if dv == v {
        run.notApplicable(contentIDs)  // a full-size draft vocabulary needs no maps
      } else {
        run.skip(contentIDs, "d2t and t2d absent (see vocab.maps-presence)")
      }
      return
    }
    let unusable = "d2t/t2d absent or with the wrong dtype (see vocab.*-dtype-shape)"
    if let t2d {
      run.ran(.vocabT2DPopcount)
      let popcount = t2d.count { $0 }
      if popcount != dv {
        run.report(
          .vocabT2DPopcount, .error, tensor: "t2d", expected: String(dv), found: String(popcount),
          "tensor 't2d': expected \(dv) true entries (draft_vocab_size), found \(popcount)")
      }
    } else {
      run.skip([.vocabT2DPopcount], unusable)
    }
    guard let d2t else {
      run.skip([.vocabD2TRange, .vocabT2DAgrees, .vocabIdentityMap], unusable)
      return
    }
    run.ran(.vocabD2TRange)
    let analysis = VocabularyMaps(offsets: d2t, mask: t2d).analyse(vocabSize: v)
    if let i = analysis.outOfRange.first {
      let offset = d2t[i]
      let target = VocabularyMaps.wrappedTarget(of: i, offset: offset)
      run.report(
        .vocabD2TRange, .error, tensor: "d2t", expected: "0 <= i + d2t[i] < \(v)",
        found: "\(analysis.outOfRange.count) out of range, first i=\(i): \(i) + \(offset) = \(target)",
        "tensor 'd2t': expected 0 <= i + d2t[i] < \(v) (\(vocabKey(table))), found \(analysis.outOfRange.count) "
          + "draft id(s) out of range, first d2t[\(i)] = \(offset) → target \(target)")
    }
    if dv == v {
      run.ran(.vocabIdentityMap)
      if let nonzero = d2t.firstIndex(where: { $0 != 0 }) {
        run.report(
          .vocabIdentityMap, .warning, tensor: "d2t", expected: "all zeros (draft_vocab_size == vocab_size)",
          found: "d2t[\(nonzero)] = \(d2t[nonzero])",
          "tensor 'd2t': expected all zeros because draft_vocab_size == vocab_size, found d2t[\(nonzero)] = "
            + "\(d2t[nonzero]) (SafeAILab drops the maps in this case while vLLM applies them)")
      }
    } else {
      run.notApplicable([.vocabIdentityMap])  // draft_vocab_size < vocab_size: a real map is expected
    }
    guard t2d != nil else {
      run.skip([.vocabT2DAgrees], unusable)
      return
    }
    run.ran(.vocabT2DAgrees)
    if !analysis.maskAgrees {
      var parts: [String] = []
      if let first = analysis.notMarked.first {
        parts.append("\(analysis.notMarked.count) mapped target id(s) false in t2d (first \(first.target))")
      }
      if let first = analysis.unmarkedByAnyDraftID.first {
        parts.append("\(analysis.unmarkedByAnyDraftID.count) t2d entries no draft id maps to (first \(first))")
      }
      if analysis.duplicates > 0 { parts.append("\(analysis.duplicates) duplicate target id(s) in d2t") }
      run.report(
        .vocabT2DAgrees, .error, tensor: "t2d", expected: "t2d == {i + d2t[i]}",
        found: parts.joined(separator: "; "),
        "tensor 't2d': expected exactly the target ids i + d2t[i] marked true, found "
          + parts.joined(separator: "; "))
    }
  }
}

extension VerificationRun {
  /// Marks a list of checks as executed.
  func ran(_ ids: [CheckID]) {
    for id in ids { ran(id) }
  }
}
