import Inspect

/// A draft model run the way vLLM runs it for its algorithm, with its own KV cache.
///
/// - eagle3: `fc` combines the verifier's aux taps (after `input_norm` or the per-tap `fc_norm`
///   when present) into one hidden state per position; layer 0 attends over
///   cat(input_layernorm(embedding), hidden_norm(hidden)) with the residual `hidden` or
///   `hidden_norm(hidden)` (`norm_before_residual`); later layers are plain decoder layers; the
///   final `norm` feeds `lm_head` (draft vocabulary, mapped to the verifier's by `d2t`), and the
///   pre-norm stream (normalised one with `norm_output`) is the next step's hidden state.
/// - eagle: `fc` over cat(embedding, hidden) (HASS: the embedding normalised first), one decoder
///   layer without input norm (HASS: with it), logits from the verifier's `lm_head` (HASS:
///   after `pre_lm_head_layernorm`).
final class DraftNetwork {
  let reading: DraftReading
  let shape: TransformerShape
  let location: String
  let embedding: StoredTensor
  let layers: [DecoderLayer]
  let hiddenNorm: [Float]?
  let fc: Linear
  let inputNorm: [Float]?
  let fcNorms: [[Float]]
  let finalNorm: [Float]?
  let embeddingNorm: [Float]?
  let lmHead: Linear
  /// Draft token i is verifier token `i + d2t[i]`.
  let draftToTarget: [Int]?
  private var caches: [KeyValueCache]

  /// Builds the draft from its weights (`weights` resolves Speculators names, see
  /// ``DraftSource``) and the verifier's shared tensors.
  init(
    reading: DraftReading, shape: TransformerShape, weights: WeightSet, verifier: VerifierNetwork,
    fcInputWidth: Int?
  ) throws(ProbeError) {
    self.reading = reading
    self.shape = shape
    location = weights.location
    let h = shape.hiddenSize
    let verifierH = verifier.shape.hiddenSize
    let vocab = verifier.shape.vocabSize
    switch reading.embedding {
    case .draft: embedding = try weights.tensor("embed_tokens.weight")
    case .verifier: embedding = verifier.embedding
    }
    guard embedding.info.shape.count == 2, embedding.info.shape[1] == h, embedding.info.shape[0] >= vocab else {
      throw ProbeError(
        .mismatch, file: embedding.info.file, tensor: embedding.info.name,
        reason: "embedding shape \(embedding.info.shape) does not fit a draft of hidden size \(h) "
          + "and a verifier vocabulary of \(vocab)")
    }
    switch reading.algorithm {
    case .eagle3:
      var layers: [DecoderLayer] = []
      for index in 0..<shape.layerCount {
        layers.append(
          try DecoderLayer(
            weights: weights, prefix: "layers.\(index)", shape: shape, attentionInput: index == 0 ? 2 * h : h))
      }
      self.layers = layers
      hiddenNorm = try weights.vector("layers.0.hidden_norm.weight", count: h)
      let taps = reading.auxLayerIDs.count
      let width = fcInputWidth ?? verifierH * taps
      guard width == verifierH * taps else {
        throw ProbeError(
          .mismatch, file: weights.location, tensor: "fc.weight",
          reason: "fc takes \(width) inputs but vLLM collects \(taps) aux hidden states "
            + "(layers \(reading.auxLayerIDs)) of \(verifierH): vLLM fails on the first draft step")
      }
      fc = try weights.linear("fc", out: h, in: width)
      inputNorm = reading.normBeforeFC ? try weights.vector("input_norm.weight", count: width) : nil
      fcNorms =
        reading.fcNorm
        ? try (0..<taps).map { (index) throws(ProbeError) in try weights.vector("fc_norm.\(index).weight", count: verifierH) }
        : []
      finalNorm = try weights.vector("norm.weight", count: h)
      embeddingNorm = nil
      switch reading.lmHead {
      case .draft:
        let head = try weights.tensor("lm_head.weight")
        guard head.info.shape.count == 2, head.info.shape[1] == h else {
          throw ProbeError(
            .mismatch, file: weights.location, tensor: head.info.name,
            reason: "lm_head shape \(head.info.shape) does not fit hidden size \(h)")
        }
        lmHead = try Linear(weight: head)
      case .verifier:
        lmHead = verifier.lmHead
      }
      let draftVocab = lmHead.outFeatures
      if draftVocab != vocab {
        let offsets = try weights.vocabularyOffsets(count: draftVocab) ?? Array(repeating: 0, count: draftVocab)
        var map = [Int](repeating: 0, count: draftVocab)
        for i in 0..<draftVocab {
          guard let target = VocabularyMaps.target(of: i, offset: offsets[i], vocabSize: vocab) else {
            throw ProbeError(
              .mismatch, file: weights.location, tensor: "d2t",
              reason: "draft token \(i) maps to \(VocabularyMaps.wrappedTarget(of: i, offset: offsets[i])), "
                + "outside the verifier's vocabulary of \(vocab)")
          }
          map[i] = target
        }
        draftToTarget = map
      } else {
        draftToTarget = nil
      }
    case .eagle:
      layers = [
        try DecoderLayer(
          weights: weights, prefix: "transformer", shape: shape, hasInputNorm: reading.layernorms)
      ]
      hiddenNorm = nil
      fc = try weights.linear("fusion_fc", out: h, in: 2 * h)
      inputNorm = nil
      fcNorms = []
      finalNorm = reading.layernorms ? try weights.vector("pre_lm_head_layernorm.weight", count: h) : nil
      embeddingNorm = reading.layernorms ? try weights.vector("embedding_layernorm.weight", count: h) : nil
      lmHead = verifier.lmHead
      draftToTarget = nil
      guard verifierH == h else {
        throw ProbeError(
          .mismatch, file: weights.location,
          reason: "the draft's hidden size \(h) differs from the verifier's \(verifierH)")
      }
    }
    caches = layers.map { _ in KeyValueCache(width: shape.kvHeads * shape.headDim) }
  }

  /// Positions held in the KV cache.
  var length: Int { caches.first?.count ?? 0 }

  /// Forgets every cached position from `length` on.
  func truncate(to length: Int) { caches.forEach { $0.truncate(to: length) } }

  /// Bytes of weight one draft step reads, on average over a proposal of `steps` steps: the
  /// layers, lm_head and (eagle) fc every step; eagle3's fc once per proposal, in its first pass.
  func stepWeightBytes(proposalSteps steps: Int) -> Int {
    let everyStep = layers.reduce(lmHead.weightBytes) { $0 + $1.weightBytes }
    guard reading.algorithm == .eagle3 else { return everyStep + fc.weightBytes }
    return everyStep + fc.weightBytes / max(1, steps)
  }

  /// eagle3: the verifier's tapped features (`rows × taps·H`) combined into hidden states
  /// (`rows × H`); eagle: the features unchanged.
  func combine(_ features: [Float], rows: Int) -> [Float] {
    guard reading.algorithm == .eagle3 else { return features }
    var input = features
    let width = fc.inFeatures
    if let inputNorm {
      input = rmsNorm(input, rows: rows, width: width, weight: inputNorm, epsilon: shape.rmsNormEpsilon)
    }
    if !fcNorms.isEmpty {
      let part = width / fcNorms.count
      input.withUnsafeMutableBufferPointer { buffer in
        for r in 0..<rows {
          for (index, norm) in fcNorms.enumerated() {
            let chunk = buffer.baseAddress! + r * width + index * part
            rmsNorm(chunk, rows: 1, width: part, weight: norm, epsilon: shape.rmsNormEpsilon, into: chunk)
          }
        }
      }
    }
    return fc(input, rows: rows)
  }

  /// One draft pass over `rows` positions after the cache: token `tokens[r]`'s embedding and
  /// hidden state `hidden[r]`. Returns the greedy verifier-vocabulary token of the last row and
  /// the hidden state to carry from each row.
  func forward(_ tokens: [Int], hidden: [Float]) throws(ProbeError) -> (token: Int, carried: [Float]) {
    let rows = tokens.count
    let h = shape.hiddenSize
    let start = length
    let eps = shape.rmsNormEpsilon
    var embeds = VerifierNetwork.embed(tokens, table: embedding)
    var stream: [Float]
    var normed: [Float]? = nil
    switch reading.algorithm {
    case .eagle3:
      let first = layers[0]
      let embedNormed = rmsNorm(embeds, rows: rows, width: h, weight: first.inputNorm!, epsilon: eps)
      let hiddenNormed = rmsNorm(hidden, rows: rows, width: h, weight: hiddenNorm!, epsilon: eps)
      stream = reading.normBeforeResidual ? hiddenNormed : hidden
      let attentionInput = interleave([embedNormed, hiddenNormed], rows: rows, width: h)
      add(first.attention(attentionInput, rows: rows, start: start, cache: caches[0]), to: &stream)
      first.finish(&stream, rows: rows)
      for index in 1..<max(1, layers.count) {
        layers[index].forward(&stream, rows: rows, start: start, cache: caches[index])
      }
      normed = rmsNorm(stream, rows: rows, width: h, weight: finalNorm!, epsilon: eps)
    case .eagle:
      if let embeddingNorm { embeds = rmsNorm(embeds, rows: rows, width: h, weight: embeddingNorm, epsilon: eps) }
      stream = fc(interleave([embeds, hidden], rows: rows, width: h), rows: rows)
      layers[0].forward(&stream, rows: rows, start: start, cache: caches[0])
      if let finalNorm { normed = rmsNorm(stream, rows: rows, width: h, weight: finalNorm, epsilon: eps) }
    }
    guard stream.allSatisfy(\.isFinite) else {
      throw ProbeError(.nonFinite, file: location, reason: "the draft produced NaN or infinite activations")
    }
    let last = Array((normed ?? stream)[((rows - 1) * h)...])
    let logits = lmHead(last, rows: 1)
    guard logits.allSatisfy({ !$0.isNaN }) else {
      throw ProbeError(.nonFinite, file: location, reason: "the draft's lm_head produced NaN logits")
    }
    let best = argmax(logits, offset: 0, count: logits.count)
    let carried = reading.algorithm == .eagle3 && reading.normOutput ? normed! : stream
    return (draftToTarget?[best] ?? best, carried)
  }
}
