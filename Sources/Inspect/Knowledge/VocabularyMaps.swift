/// EAGLE-3's vocabulary maps: how a draft with a smaller vocabulary names the verifier's tokens.
///
/// - `d2t`: one offset per draft token id (`draft_vocab_size` entries, int64 in speculators'
///   layout); draft id `i` is verifier id `i + d2t[i]` (vLLM `llama_eagle3.py` adds it to the
///   draft's argmax).
/// - `t2d`: a bool mask over the verifier vocabulary (`vocab_size` entries), true at exactly the
///   verifier ids some draft id maps to, so `draft_vocab_size` entries are true. vLLM never
///   reads it; speculators requires both maps or neither.
///
/// Convert refuses maps that break these rules, verify reports them and the probe maps its
/// draft's tokens with them; all three decode and judge the maps here.
package struct VocabularyMaps: Sendable, Hashable {
  /// The tensor names.
  package static let offsetsName = "d2t"
  package static let maskName = "t2d"
  /// The dtypes speculators stores the maps in.
  package static let offsetsType = DType.I64
  package static let maskType = DType.BOOL
  /// The narrower integer dtypes vLLM copies into its int64 `d2t` parameter and serves
  /// unchanged (widened on load).
  package static let widenedOffsetTypes: Set<DType> = [.I32, .I16, .I8, .U8, .U16, .U32]

  /// `d2t`: the offset of each draft id.
  package var offsets: [Int64]
  /// `t2d`, when present: whether each verifier id is in the draft vocabulary.
  package var mask: [Bool]?

  package init(offsets: [Int64], mask: [Bool]?) {
    self.offsets = offsets
    self.mask = mask
  }

  // MARK: Decoding

  /// The offsets in `bytes`, little-endian elements of `dtype` (``offsetsType`` or one of the
  /// ``widenedOffsetTypes``); `nil` for any other dtype.
  package static func decodeOffsets(_ bytes: [UInt8], dtype: DType) -> [Int64]? {
    guard dtype == offsetsType || widenedOffsetTypes.contains(dtype), let size = dtype.bytesPerElement else {
      return nil
    }
    return bytes.withUnsafeBytes { raw -> [Int64] in
      (0..<(raw.count / size)).map { i -> Int64 in
        switch dtype {
        case .I64: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
        case .I32: Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
        case .U32: Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        case .I16: Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
        case .U16: Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
        case .I8: Int64(Int8(bitPattern: raw[i]))
        default: Int64(raw[i])
        }
      }
    }
  }

  /// The mask in `bytes`, one `BOOL` element each (any non-zero byte is true).
  package static func decodeMask(_ bytes: [UInt8]) -> [Bool] {
    bytes.map { $0 != 0 }
  }

  // MARK: Rules

  /// The verifier id draft id `index` maps to (`index + offset`), or `nil` when that overflows
  /// or falls outside a verifier vocabulary of `vocabSize`.
  package static func target(of index: Int, offset: Int64, vocabSize: Int) -> Int? {
    let (target, overflow) = Int64(index).addingReportingOverflow(offset)
    guard !overflow, target >= 0, target < Int64(vocabSize) else { return nil }
    return Int(target)
  }

  /// `index + offset` as the sum wraps, for naming an out-of-range target in a message.
  package static func wrappedTarget(of index: Int, offset: Int64) -> Int64 {
    Int64(index).addingReportingOverflow(offset).partialValue
  }

  /// What is wrong with a pair of maps over a verifier vocabulary of `vocabSize`.
  package struct Analysis: Sendable {
    /// Draft ids whose target falls outside the verifier vocabulary.
    package var outOfRange: [Int] = []
    /// The in-range targets, in draft-id order.
    package var targets: [Int] = []
    /// Draft ids whose (in-range) target `t2d` does not mark, with that target.
    package var notMarked: [(draftID: Int, target: Int)] = []
    /// Verifier ids `t2d` marks that no draft id maps to.
    package var unmarkedByAnyDraftID: [Int] = []
    /// How many draft ids map to a target an earlier draft id already maps to.
    package var duplicates = 0
    /// `t2d`'s true entries; `nil` without `t2d`.
    package var markedCount: Int?

    /// The first draft id that breaks a rule of `d2t`: out of range, or mapped to a target
    /// `t2d` does not mark.
    package var firstBadDraftID: Int? {
      [outOfRange.first, notMarked.first?.draftID].compactMap { $0 }.min()
    }

    /// Whether `t2d` marks exactly the targets of `d2t`, each once.
    package var maskAgrees: Bool { notMarked.isEmpty && unmarkedByAnyDraftID.isEmpty && duplicates == 0 }

  }

  /// Judges the maps against the rules over a verifier vocabulary of `vocabSize`. A target
  /// beyond `t2d`'s length counts as neither marked nor unmarked.
  package func analyse(vocabSize: Int) -> Analysis {
    var analysis = Analysis()
    var mapped = mask.map { [Bool](repeating: false, count: $0.count) }
    analysis.targets.reserveCapacity(offsets.count)
    for (index, offset) in offsets.enumerated() {
      guard let target = Self.target(of: index, offset: offset, vocabSize: vocabSize) else {
        analysis.outOfRange.append(index)
        continue
      }
      analysis.targets.append(target)
      guard let mask, target < mask.count else { continue }
      if mapped?[target] == true { analysis.duplicates += 1 }
      mapped?[target] = true
      if !mask[target] { analysis.notMarked.append((index, target)) }
    }
    if let mask, let mapped {
      analysis.markedCount = mask.count { $0 }
      analysis.unmarkedByAnyDraftID = mask.indices.filter { mask[$0] && !mapped[$0] }
    }
    return analysis
  }
}
