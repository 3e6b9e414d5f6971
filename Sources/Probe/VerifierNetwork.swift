import Inspect

/// The verifier: a Llama/Mistral/Qwen2/Qwen3 causal language model run greedily, with a KV
/// cache, returning what a draft consumes (the residual stream at the aux taps, or the final
/// normalised hidden state) beside its greedy tokens.
final class VerifierNetwork {
  /// Which per-position features the draft needs from the verifier.
  enum Features: Sendable, Hashable {
    /// EAGLE-3: the residual stream entering each listed layer (index `L` is the stream after
    /// the last layer), concatenated in ascending layer order.
    case taps([Int])
    /// EAGLE-1: the final hidden state after the model's last norm.
    case finalNormed
  }

  let shape: TransformerShape
  let location: String
  let embedding: StoredTensor
  let layers: [DecoderLayer]
  let finalNorm: [Float]
  let lmHead: Linear
  private var caches: [KeyValueCache]

  /// Loads the verifier at `checkpoint` (its config and weights).
  init(checkpoint: Checkpoint, reader: TensorReader) throws(ProbeError) {
    location = checkpoint.location
    guard let json = checkpoint.config else {
      throw ProbeError(.invalidInput, file: checkpoint.location, reason: "the verifier has no config.json")
    }
    let config = ModelConfig(json)
    let shape = try TransformerShape(config: config, file: checkpoint.directory + "/config.json")
    self.shape = shape
    // Weight names with or without the `model.` wrapper.
    let prefix = checkpoint.tensor(named: "model.embed_tokens.weight") != nil ? "model." : ""
    let weights = WeightSet(checkpoint: checkpoint, reader: reader)
    let h = shape.hiddenSize
    embedding = try weights.tensor(prefix + "embed_tokens.weight", shape: [shape.vocabSize, h])
    var layers: [DecoderLayer] = []
    for index in 0..<shape.layerCount {
      layers.append(try DecoderLayer(weights: weights, prefix: "\(prefix)layers.\(index)", shape: shape))
    }
    self.layers = layers
    finalNorm = try weights.vector(prefix + "norm.weight", count: h)
    if let head = try weights.optional("lm_head.weight", shape: [shape.vocabSize, h]) {
      lmHead = try Linear(weight: head)
    } else if shape.tiedEmbeddings {
      lmHead = try Linear(weight: embedding)
    } else {
      throw ProbeError(
        .mismatch, file: checkpoint.location, tensor: "lm_head.weight",
        reason: "tensor is missing and tie_word_embeddings is not set")
    }
    caches = layers.map { _ in KeyValueCache(width: shape.kvHeads * shape.headDim) }
  }

  /// Positions held in the KV cache.
  var length: Int { caches.first?.count ?? 0 }

  /// Bytes of weight one forward step reads (layers, lm_head, not the embedding rows).
  var stepWeightBytes: Int { layers.reduce(lmHead.weightBytes) { $0 + $1.weightBytes } }

  /// Forgets every cached position from `length` on.
  func truncate(to length: Int) { caches.forEach { $0.truncate(to: length) } }

  /// The embedding rows of `tokens`, widened.
  static func embed(_ tokens: [Int], table: StoredTensor) -> [Float] {
    let width = table.info.shape[1]
    return [Float](unsafeUninitializedCapacity: tokens.count * width) { buffer, initialized in
      for (row, token) in tokens.enumerated() {
        ElementCodec.widen(
          table.bytes, as: table.info.dtype, from: token * width, count: width,
          into: buffer.baseAddress! + row * width)
      }
      initialized = tokens.count * width
    }
  }

  /// The result of one forward step.
  struct Step {
    /// The greedy next token after each requested row.
    var tokens: [Int]
    /// The draft's features for every row, `rows × featureWidth`.
    var features: [Float]
  }

  /// Runs `tokens` (at the positions after the cache) through the model, appending to the KV
  /// cache. Greedy tokens are computed for the rows from `logitsFrom` on.
  ///
  /// - Throws: ``ProbeError`` (`.nonFinite`) when an activation is NaN or infinite.
  func forward(_ tokens: [Int], features: Features, logitsFrom: Int) throws(ProbeError) -> Step {
    let rows = tokens.count
    let h = shape.hiddenSize
    let start = length
    var stream = Self.embed(tokens, table: embedding)
    var tapped: [[Float]] = []
    let taps: [Int]
    if case .taps(let list) = features { taps = list } else { taps = [] }
    for (index, layer) in layers.enumerated() {
      if taps.contains(index) { tapped.append(stream) }
      layer.forward(&stream, rows: rows, start: start, cache: caches[index])
      try checkFinite(stream, what: "layer \(index)")
    }
    if taps.contains(layers.count) { tapped.append(stream) }
    let normed = rmsNorm(stream, rows: rows, width: h, weight: finalNorm, epsilon: shape.rmsNormEpsilon)
    let sampled = rows - logitsFrom
    let logits = lmHead(Array(normed[(logitsFrom * h)...]), rows: sampled)
    try checkFinite(logits, what: "lm_head")
    let vocab = shape.vocabSize
    let greedy = (0..<sampled).map { argmax(logits, offset: $0 * vocab, count: vocab) }
    let out: [Float]
    switch features {
    case .finalNormed:
      out = normed
    case .taps:
      out = interleave(tapped, rows: rows, width: h)
    }
    return Step(tokens: greedy, features: out)
  }

  private func checkFinite(_ values: [Float], what: String) throws(ProbeError) {
    if !values.allSatisfy(\.isFinite) {
      throw ProbeError(
        .nonFinite, file: location, reason: "the verifier's \(what) produced NaN or infinite activations")
    }
  }
}

/// The index of the largest of `count` values from `offset` (the first on ties).
func argmax(_ values: [Float], offset: Int, count: Int) -> Int {
  var best = 0
  var highest = -Float.infinity
  for i in 0..<count where values[offset + i] > highest {
    highest = values[offset + i]
    best = i
  }
  return best
}

/// Row-wise concatenation: row r of the result is row r of each part, in order.
func interleave(_ parts: [[Float]], rows: Int, width: Int) -> [Float] {
  var out = [Float]()
  out.reserveCapacity(rows * width * parts.count)
  for r in 0..<rows {
    for part in parts { out.append(contentsOf: part[(r * width)..<((r + 1) * width)]) }
  }
  return out
}
