extension TensorInfo {
  /// The view of rows `range` (along the first dimension), named `name`, without reading data:
  /// a contiguous tensor stays contiguous at a later offset, a strided view moves its element
  /// offset. `nil` when the range is outside the tensor, the tensor is a scalar or of a
  /// sub-byte dtype, or a size overflows.
  package func rows(_ range: Range<Int>, named name: String) -> TensorInfo? {
    guard let first = shape.first, range.lowerBound >= 0, range.upperBound <= first,
      let elementSize = dtype.bytesPerElement
    else { return nil }
    var rowElements = 1
    for dimension in shape.dropFirst() {
      let (product, overflow) = rowElements.multipliedReportingOverflow(by: dimension)
      guard !overflow else { return nil }
      rowElements = product
    }
    let newShape = [range.count] + shape.dropFirst()
    switch layout {
    case .contiguous(let offset, _):
      let (rowBytes, o1) = rowElements.multipliedReportingOverflow(by: elementSize)
      let (skip, o2) = rowBytes.multipliedReportingOverflow(by: range.lowerBound)
      let (start, o3) = offset.addingReportingOverflow(skip)
      let (length, o4) = rowBytes.multipliedReportingOverflow(by: range.count)
      guard !o1, !o2, !o3, !o4 else { return nil }
      return TensorInfo(
        name: name, dtype: dtype, shape: newShape, file: file, layout: .contiguous(offset: start, length: length))
    case .strided(let storageOffset, let storageLength, let elementOffset, let strides, let bigEndian):
      guard let stride = strides.first else { return nil }
      let (skip, o1) = stride.multipliedReportingOverflow(by: range.lowerBound)
      let (start, o2) = elementOffset.addingReportingOverflow(skip)
      guard !o1, !o2 else { return nil }
      return TensorInfo(
        name: name, dtype: dtype, shape: newShape, file: file,
        layout: .strided(
          storageOffset: storageOffset, storageLength: storageLength, elementOffset: start, strides: strides,
          bigEndian: bigEndian))
    }
  }

  /// The view of the first `count` columns of a 2-D tensor (a strided view; the reader gathers
  /// it). `nil` when the tensor is not 2-D, `count` exceeds its columns, or the dtype is sub-byte.
  package func leadingColumns(_ count: Int) -> TensorInfo? {
    guard shape.count == 2, count >= 0, count <= shape[1], dtype.bytesPerElement != nil else { return nil }
    let newShape = [shape[0], count]
    switch layout {
    case .contiguous(let offset, let length):
      return TensorInfo(
        name: name, dtype: dtype, shape: newShape, file: file,
        layout: .strided(
          storageOffset: offset, storageLength: length, elementOffset: 0, strides: [shape[1], 1], bigEndian: false))
    case .strided(let storageOffset, let storageLength, let elementOffset, let strides, let bigEndian):
      return TensorInfo(
        name: name, dtype: dtype, shape: newShape, file: file,
        layout: .strided(
          storageOffset: storageOffset, storageLength: storageLength, elementOffset: elementOffset,
          strides: strides, bigEndian: bigEndian))
    }
  }
}
