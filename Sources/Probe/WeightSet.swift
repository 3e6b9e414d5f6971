import Inspect

/// The tensors of one checkpoint, looked up by the names the forward pass uses.
///
/// `names` maps a forward-pass name to the stored name (a draft before conversion stores
/// `midlayer.*` where the Speculators layout says `layers.0.*`; the rename comes from
/// ``ConversionMapping``). Tensors are read in place (``StoredTensor``).
struct WeightSet: @unchecked Sendable {
  let checkpoint: Checkpoint
  let reader: TensorReader
  /// Forward-pass name → stored name, for renamed tensors.
  let names: [String: String]

  init(checkpoint: Checkpoint, reader: TensorReader, names: [String: String] = [:]) {
    self.checkpoint = checkpoint
    self.reader = reader
    self.names = names
  }

  /// The location used in errors.
  var location: String { checkpoint.location }

  /// The stored description of `name`, if present.
  func info(_ name: String) -> TensorInfo? {
    checkpoint.tensor(named: names[name] ?? name)
  }

  /// Whether `name` is present.
  func contains(_ name: String) -> Bool { info(name) != nil }

  /// The tensor `name`, read in place, with its shape checked against `shape` when given.
  func tensor(_ name: String, shape: [Int]? = nil) throws(ProbeError) -> StoredTensor {
    guard let info = info(name) else {
      throw ProbeError(.mismatch, file: location, tensor: names[name] ?? name, reason: "tensor is missing")
    }
    if let shape, info.shape != shape {
      throw ProbeError(
        .mismatch, file: location, tensor: info.name, reason: "shape \(info.shape), expected \(shape)")
    }
    guard ElementCodec.castTypes.contains(info.dtype) else {
      throw ProbeError(
        .unsupported, file: location, tensor: info.name,
        reason: "dtype \(info.dtype.rawValue) is not supported by the probe (F32, F16, BF16)")
    }
    return try StoredTensor(info, reader: reader)
  }

  /// The tensor `name` if present (shape-checked), else `nil`.
  func optional(_ name: String, shape: [Int]? = nil) throws(ProbeError) -> StoredTensor? {
    contains(name) ? try tensor(name, shape: shape) : nil
  }

  /// A 1-D tensor of `count` elements, widened.
  func vector(_ name: String, count: Int) throws(ProbeError) -> [Float] {
    try tensor(name, shape: [count]).floats()
  }

  /// A linear layer `prefix.weight` (`[out, in]`) with `prefix.bias` when present.
  func linear(_ prefix: String, out: Int, in inFeatures: Int) throws(ProbeError) -> Linear {
    try Linear(
      weight: tensor(prefix + ".weight", shape: [out, inFeatures]),
      bias: optional(prefix + ".bias", shape: [out]))
  }
}

extension WeightSet {
  /// The draft's `d2t` (``VocabularyMaps``) of `count` offsets, in int64 or a narrower integer
  /// dtype vLLM widens, if present.
  func vocabularyOffsets(count: Int) throws(ProbeError) -> [Int64]? {
    guard let info = info(VocabularyMaps.offsetsName) else { return nil }
    guard info.elementCount == count, info.shape.count == 1 else {
      throw ProbeError(
        .mismatch, file: location, tensor: info.name, reason: "shape \(info.shape), expected [\(count)]")
    }
    let bytes: [UInt8]
    do {
      bytes = try reader.bytes(of: info)
    } catch {
      throw ProbeError(error)
    }
    guard let offsets = VocabularyMaps.decodeOffsets(bytes, dtype: info.dtype) else {
      throw ProbeError(.mismatch, file: location, tensor: info.name, reason: "dtype \(info.dtype.rawValue), expected I64")
    }
    return offsets
  }
}
