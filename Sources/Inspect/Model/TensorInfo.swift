/// Where a tensor's bytes live inside its file.
public enum TensorLayout: Sendable, Hashable {
  /// Dense, C-ordered, little-endian bytes at an absolute file offset (safetensors, or a
  /// contiguous view into a PyTorch storage).
  case contiguous(offset: Int, length: Int)
  /// A strided view into a PyTorch storage record. `storageOffset` and `storageLength` are
  /// absolute byte positions in the file; `elementOffset` and `strides` count elements.
  /// `bigEndian` is set when the archive's `byteorder` record says `big`.
  case strided(
    storageOffset: Int, storageLength: Int, elementOffset: Int, strides: [Int], bigEndian: Bool)
}

/// One tensor of a checkpoint: its name, type, shape and where its bytes are.
///
/// Reading a checkpoint produces these from headers alone; no tensor data is touched.
public struct TensorInfo: Sendable, Hashable {
  /// The tensor's name as stored in the checkpoint (for example `fc.weight`).
  public var name: String
  /// The element type.
  public var dtype: DType
  /// The shape, outermost dimension first. `[]` is a scalar.
  public var shape: [Int]
  /// The path of the file holding the bytes.
  public var file: String
  /// Where in `file` the bytes are.
  public var layout: TensorLayout

  /// Creates a tensor description.
  package init(name: String, dtype: DType, shape: [Int], file: String, layout: TensorLayout) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.file = file
    self.layout = layout
  }

  /// The number of elements (the product of the shape; 1 for a scalar).
  ///
  /// Readers check the product for overflow before creating a `TensorInfo`, so this cannot trap
  /// for a tensor that came from a reader.
  public var elementCount: Int {
    shape.reduce(1, *)
  }

  /// The size of the tensor's dense little-endian bytes.
  public var byteCount: Int {
    elementCount * dtype.bitsPerElement / 8
  }
}

/// Computes `product(shape) * bits / 8` with overflow checks, as safetensors readers must.
///
/// - Returns: the byte count, or `nil` on overflow, a negative dimension, or a bit count that
///   is not a whole number of bytes.
package func checkedByteCount(shape: [Int], dtype: DType) -> Int? {
  var count = 1
  for dim in shape {
    guard dim >= 0 else { return nil }
    let (product, overflow) = count.multipliedReportingOverflow(by: dim)
    if overflow { return nil }
    count = product
  }
  let (bits, overflow) = count.multipliedReportingOverflow(by: dtype.bitsPerElement)
  guard !overflow, bits % 8 == 0 else { return nil }
  return bits / 8
}
