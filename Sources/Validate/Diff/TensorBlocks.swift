import Inspect

/// A run of consecutive elements (in C order) of a tensor that can be described as one view:
/// fixed indices on the leading axes, a range on one axis, and everything on the axes after it.
struct TensorBlock: Equatable {
  /// The flat C-order index of the block's first element.
  var start: Int
  /// The number of elements.
  var count: Int
  /// Indices on the axes before ``axis``.
  var leadingIndices: [Int]
  /// The axis the block takes a range of (0 for scalars, which have a single block).
  var axis: Int
  /// The range on ``axis``.
  var range: Range<Int>
}

/// Cuts a shape into blocks of at most `maxElements` elements, in C order.
///
/// The plan depends only on the shape, so two tensors of the same shape are cut identically and
/// their blocks can be compared pairwise whatever their dtypes or storage layouts. Blocks can be
/// smaller than `maxElements` (at the end of a row of the chosen axis) but never larger, except
/// that a block always holds at least one element.
struct TensorBlockPlan: Sequence {
  let shape: [Int]
  let maxElements: Int

  init(shape: [Int], maxElements: Int) {
    self.shape = shape
    self.maxElements = Swift.max(1, maxElements)
  }

  func makeIterator() -> Iterator { Iterator(shape: shape, maxElements: maxElements) }

  struct Iterator: IteratorProtocol {
    private let shape: [Int]
    private let axis: Int
    private let innerCount: Int
    private let rowsPerBlock: Int
    private var leading: [Int]
    private var row = 0
    private var start = 0
    private var finished: Bool

    init(shape: [Int], maxElements: Int) {
      self.shape = shape
      finished = shape.contains(0)
      if shape.isEmpty || finished {
        axis = 0
        innerCount = 1
        rowsPerBlock = 1
        leading = []
        return
      }
      // The first axis whose trailing sub-tensor fits in a block.
      var chosen = shape.count - 1
      var inner = 1
      var trailing = [Int](repeating: 1, count: shape.count)
      for index in stride(from: shape.count - 1, through: 0, by: -1) {
        trailing[index] = inner
        let (next, overflow) = inner.multipliedReportingOverflow(by: shape[index])
        inner = overflow ? Int.max : next
      }
      for index in 0..<shape.count where trailing[index] <= maxElements {
        chosen = index
        break
      }
      axis = chosen
      innerCount = trailing[chosen]
      rowsPerBlock = Swift.max(1, Swift.min(shape[chosen], maxElements / innerCount))
      leading = [Int](repeating: 0, count: chosen)
    }

    mutating func next() -> TensorBlock? {
      guard !finished else { return nil }
      if shape.isEmpty {
        finished = true
        return TensorBlock(start: 0, count: 1, leadingIndices: [], axis: 0, range: 0..<1)
      }
      let end = Swift.min(shape[axis], row + rowsPerBlock)
      let block = TensorBlock(
        start: start, count: (end - row) * innerCount, leadingIndices: leading, axis: axis, range: row..<end)
      start += block.count
      row = end
      if row == shape[axis] {
        row = 0
        var index = leading.count - 1
        while index >= 0 {
          leading[index] += 1
          if leading[index] < shape[index] { break }
          leading[index] = 0
          index -= 1
        }
        if index < 0 { finished = true }
      }
      return block
    }
  }
}

extension TensorInfo {
  /// The view of this tensor's elements covered by `block`, as a tensor ``TensorReader`` can read.
  ///
  /// - Throws: ``CheckpointError`` when the tensor's strides do not match its shape or its dtype
  ///   is not a whole number of bytes.
  func view(of block: TensorBlock) throws(CheckpointError) -> TensorInfo {
    guard let elementSize = dtype.bytesPerElement else {
      throw CheckpointError(.unsupported, file: file, tensor: name, reason: "\(dtype.rawValue) elements are not whole bytes")
    }
    if shape.isEmpty { return self }
    var view = self
    view.shape = [block.range.count] + shape[(block.axis + 1)...]
    switch layout {
    case .contiguous(let offset, _):
      view.layout = .contiguous(offset: offset + block.start * elementSize, length: block.count * elementSize)
    case .strided(let storageOffset, let storageLength, let elementOffset, let strides, let bigEndian):
      guard strides.count == shape.count else {
        throw CheckpointError(
          .malformed, file: file, tensor: name,
          reason: "\(strides.count) strides for a tensor of rank \(shape.count)")
      }
      // Strides come from the file: every step is overflow-checked (the reader checks the
      // view's extent against its storage afterwards).
      var first = elementOffset
      let steps = zip(block.leadingIndices + [block.range.lowerBound], strides)
      for (index, stride) in steps {
        let (step, o1) = index.multipliedReportingOverflow(by: stride)
        let (sum, o2) = first.addingReportingOverflow(step)
        guard !o1, !o2 else {
          throw CheckpointError(.malformed, file: file, tensor: name, reason: "view offset overflows")
        }
        first = sum
      }
      view.layout = .strided(
        storageOffset: storageOffset, storageLength: storageLength, elementOffset: first,
        strides: Array(strides[block.axis...]), bigEndian: bigEndian)
    }
    return view
  }
}
