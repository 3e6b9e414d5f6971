import Foundation

/// The keys and values one attention layer has seen, one row per position.
final class KeyValueCache {
  private(set) var keys: [Float] = []
  private(set) var values: [Float] = []
  /// Values per position (`kvHeads × headDim`).
  let width: Int
  /// Positions held.
  private(set) var count = 0

  init(width: Int) { self.width = width }

  /// Appends `rows` positions of keys and values.
  func append(keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>, rows: Int) {
    keys.append(contentsOf: UnsafeBufferPointer(start: newKeys, count: rows * width))
    values.append(contentsOf: UnsafeBufferPointer(start: newValues, count: rows * width))
    count += rows
  }

  /// Forgets every position from `length` on (rejected drafts).
  func truncate(to length: Int) {
    guard length < count else { return }
    keys.removeSubrange((length * width)...)
    values.removeSubrange((length * width)...)
    count = length
  }
}

/// Root-mean-square normalisation of each `width`-wide row, scaled by `weight`.
func rmsNorm(
  _ input: UnsafePointer<Float>, rows: Int, width: Int, weight: [Float], epsilon: Float,
  into output: UnsafeMutablePointer<Float>
) {
  weight.withUnsafeBufferPointer { w in
    for r in 0..<rows {
      let x = input + r * width
      let y = output + r * width
      var sum: Float = 0
      for i in 0..<width { sum += x[i] * x[i] }
      let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
      for i in 0..<width { y[i] = x[i] * scale * w[i] }
    }
  }
}

/// `rmsNorm` on arrays.
func rmsNorm(_ input: [Float], rows: Int, width: Int, weight: [Float], epsilon: Float) -> [Float] {
  [Float](unsafeUninitializedCapacity: rows * width) { buffer, initialized in
    input.withUnsafeBufferPointer {
      rmsNorm($0.baseAddress!, rows: rows, width: width, weight: weight, epsilon: epsilon, into: buffer.baseAddress!)
    }
    initialized = rows * width
  }
}

/// One Llama/Qwen decoder layer: pre-norm self-attention (GQA, RoPE, optional per-head q/k
/// norms) and a SiLU-gated MLP, each added to the residual stream.
///
/// The first layer of an EAGLE-3 draft takes a `2H`-wide attention input (the caller builds
/// it); ``attention(_:rows:start:cache:)`` and ``mlp(_:rows:)`` are therefore separate steps.
struct DecoderLayer: Sendable {
  let inputNorm: [Float]?
  let postAttentionNorm: [Float]
  let q: Linear
  let k: Linear
  let v: Linear
  let o: Linear
  let qNorm: [Float]?
  let kNorm: [Float]?
  let gate: Linear
  let up: Linear
  let down: Linear
  let heads: Int
  let kvHeads: Int
  let headDim: Int
  let epsilon: Float
  let rope: RotaryEmbedding
  let slidingWindow: Int?

  /// Reads the layer under `prefix` (`model.layers.3`), with `attentionInput` features into
  /// q/k/v (the hidden size, or twice it for an EAGLE-3 first layer).
  init(
    weights: WeightSet, prefix: String, shape: TransformerShape, attentionInput: Int? = nil,
    hasInputNorm: Bool = true
  ) throws(ProbeError) {
    let h = shape.hiddenSize
    let qWidth = shape.heads * shape.headDim
    let kvWidth = shape.kvHeads * shape.headDim
    let input = attentionInput ?? h
    inputNorm = hasInputNorm ? try weights.vector(prefix + ".input_layernorm.weight", count: h) : nil
    postAttentionNorm = try weights.vector(prefix + ".post_attention_layernorm.weight", count: h)
    q = try weights.linear(prefix + ".self_attn.q_proj", out: qWidth, in: input)
    k = try weights.linear(prefix + ".self_attn.k_proj", out: kvWidth, in: input)
    v = try weights.linear(prefix + ".self_attn.v_proj", out: kvWidth, in: input)
    o = try weights.linear(prefix + ".self_attn.o_proj", out: h, in: qWidth)
    if shape.family == .qwen3 {
      qNorm = try weights.vector(prefix + ".self_attn.q_norm.weight", count: shape.headDim)
      kNorm = try weights.vector(prefix + ".self_attn.k_norm.weight", count: shape.headDim)
    } else {
      qNorm = nil
      kNorm = nil
    }
    gate = try weights.linear(prefix + ".mlp.gate_proj", out: shape.intermediateSize, in: h)
    up = try weights.linear(prefix + ".mlp.up_proj", out: shape.intermediateSize, in: h)
    down = try weights.linear(prefix + ".mlp.down_proj", out: h, in: shape.intermediateSize)
    heads = shape.heads
    kvHeads = shape.kvHeads
    headDim = shape.headDim
    epsilon = shape.rmsNormEpsilon
    rope = RotaryEmbedding(shape.rope, headDim: shape.headDim)
    slidingWindow = shape.slidingWindow
  }

  /// Bytes of weight one pass over the layer reads.
  var weightBytes: Int {
    [q, k, v, o, gate, up, down].reduce(0) { $0 + $1.weightBytes }
  }

  /// Self-attention over `rows` new positions starting at `start` (already-normalised input of
  /// `q.inFeatures` values per row); appends their keys and values to `cache`. Returns the
  /// o_proj output, `rows × hidden`.
  func attention(_ input: [Float], rows: Int, start: Int, cache: KeyValueCache) -> [Float] {
    var queries = q(input, rows: rows)
    var keys = k(input, rows: rows)
    let values = v(input, rows: rows)
    let qWidth = heads * headDim
    let kvWidth = kvHeads * headDim
    queries.withUnsafeMutableBufferPointer { qs in
      keys.withUnsafeMutableBufferPointer { ks in
        for r in 0..<rows {
          let qRow = qs.baseAddress! + r * qWidth
          let kRow = ks.baseAddress! + r * kvWidth
          if let qNorm, let kNorm {
            rmsNorm(qRow, rows: heads, width: headDim, weight: qNorm, epsilon: epsilon, into: qRow)
            rmsNorm(kRow, rows: kvHeads, width: headDim, weight: kNorm, epsilon: epsilon, into: kRow)
          }
          rope.rotate(qRow, heads: heads, position: start + r)
          rope.rotate(kRow, heads: kvHeads, position: start + r)
        }
      }
    }
    keys.withUnsafeBufferPointer { ks in
      values.withUnsafeBufferPointer { vs in
        cache.append(keys: ks.baseAddress!, values: vs.baseAddress!, rows: rows)
      }
    }
    precondition(cache.count == start + rows, "KV cache length must match the positions")
    var context = [Float](repeating: 0, count: rows * qWidth)
    let group = heads / kvHeads
    let scale = 1 / Float(headDim).squareRoot()
    let cachedKeys = cache.keys
    let cachedValues = cache.values
    queries.withUnsafeBufferPointer { qs in
      cachedKeys.withUnsafeBufferPointer { ks in
        cachedValues.withUnsafeBufferPointer { vs in
          context.withUnsafeMutableBufferPointer { out in
            var scores = [Float](repeating: 0, count: start + rows)
            for r in 0..<rows {
              let position = start + r
              let first = slidingWindow.map { max(0, position - $0 + 1) } ?? 0
              for head in 0..<heads {
                let qv = qs.baseAddress! + r * qWidth + head * headDim
                let kvHead = head / group
                var highest = -Float.infinity
                for t in first...position {
                  let kv = ks.baseAddress! + t * kvWidth + kvHead * headDim
                  var dot: Float = 0
                  for i in 0..<headDim { dot += qv[i] * kv[i] }
                  scores[t] = dot * scale
                  highest = max(highest, scores[t])
                }
                var total: Float = 0
                for t in first...position {
                  scores[t] = exp(scores[t] - highest)
                  total += scores[t]
                }
                let result = out.baseAddress! + r * qWidth + head * headDim
                for t in first...position {
                  let weight = scores[t] / total
                  let vv = vs.baseAddress! + t * kvWidth + kvHead * headDim
                  for i in 0..<headDim { result[i] += weight * vv[i] }
                }
              }
            }
          }
        }
      }
    }
    return o(context, rows: rows)
  }

  /// The gated MLP of already-normalised input: `down(silu(gate(x)) · up(x))`.
  func mlp(_ input: [Float], rows: Int) -> [Float] {
    var gated = gate(input, rows: rows)
    let lifted = up(input, rows: rows)
    for i in gated.indices {
      let g = gated[i]
      gated[i] = g / (1 + exp(-g)) * lifted[i]
    }
    return down(gated, rows: rows)
  }

  /// The whole layer on the residual stream `stream` (`rows × hidden`), in place.
  func forward(_ stream: inout [Float], rows: Int, start: Int, cache: KeyValueCache) {
    let width = o.outFeatures
    let normed = inputNorm.map { rmsNorm(stream, rows: rows, width: width, weight: $0, epsilon: epsilon) } ?? stream
    add(attention(normed, rows: rows, start: start, cache: cache), to: &stream)
    finish(&stream, rows: rows)
  }

  /// The MLP half on the residual stream, in place (after the attention output was added).
  func finish(_ stream: inout [Float], rows: Int) {
    let normed = rmsNorm(stream, rows: rows, width: o.outFeatures, weight: postAttentionNorm, epsilon: epsilon)
    add(mlp(normed, rows: rows), to: &stream)
  }
}

/// `target += addend`, element-wise.
func add(_ addend: [Float], to target: inout [Float]) {
  for i in target.indices { target[i] += addend[i] }
}
