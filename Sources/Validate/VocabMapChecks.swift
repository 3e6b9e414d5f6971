import Inspect

/// EAGLE-3 vocabulary maps (`docs/checks.md`; vLLM `llama_eagle3.py` reads `d2t`): `d2t` holds int64
/// offsets (target id = `i + d2t[i]`) for each of the `DV` draft ids, `t2d` is a bool mask over
/// the `V` target ids. Header checks look at presence, dtypes and shapes; content checks
/// (`--content`) at the values.
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
    if let d2t, d2t.dtype != .I64 || d2t.shape != [dv] {
      let found = "\(d2t.dtype.rawValue) \(formatShape(d2t.shape))"
      // vLLM copies a narrower integer map into its int64 parameter and serves it unchanged
      // (docs/vllm.md); any other dtype or shape is an error.
      let widened = d2t.shape == [dv] && [.I32, .I16, .I8, .U8, .U16, .U32].contains(d2t.dtype)
      run.report(
        .vocabD2TDTypeShape, widened ? .warning : .error, tensor: "d2t", expected: "I64 [\(dv)]", found: found,
        "tensor 'd2t': expected I64 [\(dv)] (draft_vocab_size), found \(found)"
          + (widened ? " (vLLM widens it on load; speculators expects int64)" : ""))
    }
    if let t2d, t2d.dtype != .BOOL || t2d.shape != [v] {
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
    if let info = d2tInfo, info.dtype == .I64, info.shape.count == 1 {
      let bytes = try run.reader.bytes(of: info)
      d2t = stride(from: 0, to: bytes.count - 7, by: 8).map { offset in
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
        return Int64(bitPattern: value)
      }
    }
    if let info = t2dInfo, info.dtype == .BOOL, info.shape.count == 1 {
      t2d = try run.reader.bytes(of: info).map { $0 != 0 }
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
    var targets: [Int] = []
    targets.reserveCapacity(d2t.count)
    var outOfRange: [(Int, Int64)] = []
    for (i, offset) in d2t.enumerated() {
      let (target, overflow) = Int64(i).addingReportingOverflow(offset)
      if overflow || target < 0 || target >= Int64(v) {
        outOfRange.append((i, offset))
      } else {
        targets.append(Int(target))
      }
    }
    if let (i, offset) = outOfRange.first {
      let target = Int64(i).addingReportingOverflow(offset).partialValue
      run.report(
        .vocabD2TRange, .error, tensor: "d2t", expected: "0 <= i + d2t[i] < \(v)",
        found: "\(outOfRange.count) out of range, first i=\(i): \(i) + \(offset) = \(target)",
        "tensor 'd2t': expected 0 <= i + d2t[i] < \(v) (\(vocabKey(table))), found \(outOfRange.count) "
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
    guard let t2d else {
      run.skip([.vocabT2DAgrees], unusable)
      return
    }
    run.ran(.vocabT2DAgrees)
    var mapped = [Bool](repeating: false, count: t2d.count)
    var notMarked: [Int] = []
    var duplicates = 0
    for target in targets {
      guard target < t2d.count else { continue }
      if mapped[target] { duplicates += 1 }
      mapped[target] = true
      if !t2d[target] { notMarked.append(target) }
    }
    let unmapped = t2d.indices.filter { t2d[$0] && !mapped[$0] }
    if !notMarked.isEmpty || !unmapped.isEmpty || duplicates > 0 {
      var parts: [String] = []
      if let first = notMarked.first {
        parts.append("\(notMarked.count) mapped target id(s) false in t2d (first \(first))")
      }
      if let first = unmapped.first {
        parts.append("\(unmapped.count) t2d entries no draft id maps to (first \(first))")
      }
      if duplicates > 0 { parts.append("\(duplicates) duplicate target id(s) in d2t") }
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
