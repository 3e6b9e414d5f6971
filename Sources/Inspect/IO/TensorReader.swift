import Synchronization

/// Reads tensor bytes from the files of a checkpoint, on demand.
///
/// Files are memory-mapped once and shared; the pages of each chunk are released once the
/// caller's handler returns (``PageRelease``), so resident memory stays bounded by the chunks in
/// flight rather than growing with the checkpoint. Bytes are always handed out as the tensor's dense,
/// C-ordered, little-endian representation, whatever the container: a strided PyTorch view is
/// gathered and a big-endian storage is byte-swapped, so the same tensor gives the same bytes
/// (and the same digest) from a `.bin`, a safetensors file or a conversion.
///
/// A stand-in of a remote file (``PresentBytes``) is read only where its bytes were fetched:
/// asking for a tensor that lies elsewhere throws a `notFetched` ``CheckpointError`` naming the
/// file and the tensor, never zeros from the hole.
package final class TensorReader: Sendable {
  private let mappings = Mutex<[String: MappedFile]>([:])
  /// The present-bytes record of each mapped stand-in (absent for whole files).
  private let presentBytes = Mutex<[String: PresentBytes]>([:])

  /// The default chunk size handed to ``forEachChunk(of:maxChunk:_:)``: 8 MiB.
  package static let defaultChunk = 8 << 20

  /// Creates a reader with no files mapped yet.
  package init() {}

  /// The mapping of `path`, created on first use.
  package func mapping(for path: String) throws(CheckpointError) -> MappedFile {
    if let existing = mappings.withLock({ $0[path] }) { return existing }
    // The record first: a stand-in is never mapped without what says which bytes it holds.
    if let record = try PresentBytes.of(path) { presentBytes.withLock { $0[path] = record } }
    let mapped = try MappedFile(path: path)
    return mappings.withLock { table in
      if let existing = table[path] { return existing }
      table[path] = mapped
      return mapped
    }
  }

  /// Checks that the bytes `tensor` is stored in (its storage, for a strided view) are present:
  /// always for a whole file; for a stand-in of a remote file, only when they were fetched.
  ///
  /// - Throws: ``CheckpointError`` of kind `notFetched` naming the file, offset and tensor.
  package func requirePresent(_ tensor: TensorInfo) throws(CheckpointError) {
    _ = try mapping(for: tensor.file)
    guard let record = presentBytes.withLock({ $0[tensor.file] }) else { return }
    let (offset, length): (Int, Int)
    switch tensor.layout {
    case .contiguous(let start, let count): (offset, length) = (start, count)
    case .strided(let start, let count, _, _, _): (offset, length) = (start, count)
    }
    guard record.holds(offset: offset, length: length) else {
      throw PresentBytes.absentError(path: tensor.file, offset: offset, length: length, tensor: tensor.name)
    }
  }

  /// The bytes of a contiguous tensor in place (no copy), after the bounds and presence checks.
  /// Nil for a strided tensor (read it with ``forEachChunk(of:maxChunk:_:)``).
  ///
  /// - Throws: ``CheckpointError`` when the bytes lie outside the file or were not fetched.
  package func contiguousBytes(of tensor: TensorInfo) throws(CheckpointError) -> (bytes: UnsafeRawBufferPointer, file: MappedFile)? {
    guard case .contiguous(let offset, let length) = tensor.layout else { return nil }
    let file = try mapping(for: tensor.file)
    try checkContiguousBounds(tensor, offset: offset, length: length, file: file)
    try requirePresent(tensor)
    return (UnsafeRawBufferPointer(rebasing: file.bytes[offset..<offset + length]), file)
  }

  private func checkContiguousBounds(
    _ tensor: TensorInfo, offset: Int, length: Int, file: MappedFile
  ) throws(CheckpointError) {
    guard offset >= 0, length >= 0, offset <= file.count, length <= file.count - offset else {
      throw CheckpointError(
        .malformed, file: tensor.file, offset: UInt64(max(0, offset)), tensor: tensor.name,
        reason: "tensor bytes lie outside the file")
    }
  }

  /// Calls `body` with successive chunks (at most `maxChunk` bytes each, except that a single
  /// element is never split) of the tensor's dense little-endian bytes, in order.
  ///
  /// - Throws: ``CheckpointError`` when the bytes cannot be read or were not fetched (a
  ///   stand-in), or whatever `body` throws.
  package func forEachChunk(
    of tensor: TensorInfo, maxChunk: Int = TensorReader.defaultChunk,
    _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    let file = try mapping(for: tensor.file)
    switch tensor.layout {
    case .contiguous(let offset, let length):
      try checkContiguousBounds(tensor, offset: offset, length: length, file: file)
      try requirePresent(tensor)
      let step = max(1, maxChunk)
      var start = offset
      let end = offset + length
      if length == 0 { return }
      while start < end {
        let stop = min(end, start + step)
        try body(UnsafeRawBufferPointer(rebasing: file.bytes[start..<stop]))
        PageRelease.release(offset: start, length: stop - start, in: file)
        start = stop
      }
    case .strided(let storageOffset, let storageLength, let elementOffset, let strides, let bigEndian):
      if Self.isExpandedView(tensor) {
        guard let dense = checkedByteCount(shape: tensor.shape, dtype: tensor.dtype), dense <= Self.expandedViewLimit else {
          let stored = Self.storageWindow(of: tensor)?.count ?? 0
          throw (CheckpointError(
            .unsupported, file: tensor.file, tensor: tensor.name,
            reason: "an expanded view (shape \(tensor.shape), strides \(strides): \(stored) stored element(s)) "
              + "whose dense form is larger than \(Self.expandedViewLimit >> 20) MiB is not materialised"))
        }
      }
      guard let elementSize = tensor.dtype.bytesPerElement else {
        throw (CheckpointError(
          .unsupported, file: tensor.file, tensor: tensor.name,
          reason: "strided views of sub-byte dtypes are not supported"))
      }
      guard storageOffset >= 0, storageLength >= 0, storageOffset <= file.count,
        storageLength <= file.count - storageOffset
      else {
        throw (CheckpointError(
          .malformed, file: tensor.file, offset: UInt64(max(0, storageOffset)), tensor: tensor.name,
          reason: "storage lies outside the file"))
      }
      try requirePresent(tensor)
      let storage = UnsafeRawBufferPointer(rebasing: file.bytes[storageOffset..<storageOffset + storageLength])
      try Self.gather(
        storage: storage, elementSize: elementSize, shape: tensor.shape, strides: strides,
        elementOffset: elementOffset, bigEndian: bigEndian, maxChunk: maxChunk, tensor: tensor, body)
      PageRelease.release(offset: storageOffset, length: storageLength, in: file)
    }
  }

  /// The dense bytes of an expanded view (``isExpandedView(_:)``) above this size are never
  /// materialised: 64 MiB.
  package static let expandedViewLimit = 64 << 20

  /// The storage elements a strided view spans: the first one and how many, from the first
  /// element it names to the furthest (`nil` for a contiguous tensor, an empty view, a negative
  /// stride or an extent that overflows).
  package static func storageWindow(of tensor: TensorInfo) -> (first: Int, count: Int)? {
    guard case .strided(_, _, let elementOffset, let strides, _) = tensor.layout,
      strides.count == tensor.shape.count, !tensor.shape.contains(0), elementOffset >= 0
    else { return nil }
    var span = 0
    for (dim, stride) in zip(tensor.shape, strides) {
      guard stride >= 0, dim > 0 else { return nil }
      let (extent, o1) = (dim - 1).multipliedReportingOverflow(by: stride)
      let (sum, o2) = span.addingReportingOverflow(extent)
      guard !o1, !o2 else { return nil }
      span = sum
    }
    let (count, overflow) = span.addingReportingOverflow(1)
    return overflow ? nil : (elementOffset, count)
  }

  /// Whether `tensor` is an expanded view: its shape names more elements than the storage it
  /// spans holds, so stored elements repeat (a stride of 0, as `torch.expand` makes, or
  /// overlapping strides). Its dense form can be vastly larger than its file
  /// (`torch.zeros(1).expand(2**40)` saves in 1.6 KB), so it is hashed and scanned by its
  /// storage and its view instead (``digestPrefix(of:)``, ``forEachValueChunk(of:maxChunk:_:)``).
  package static func isExpandedView(_ tensor: TensorInfo) -> Bool {
    guard let window = storageWindow(of: tensor) else { return false }
    return tensor.elementCount > window.count
  }

  /// What a tensor's XXH3-128 digest hashes before its value bytes: nothing for an ordinary
  /// tensor (its digest is that of its dense bytes); for an expanded view, its view:
  /// `speculators-view/1`, the dtype, the rank, then each dimension and each stride as
  /// little-endian 64-bit integers. The offset of the view counts through the storage
  /// window, which starts at its first element.
  package static func digestPrefix(of tensor: TensorInfo) -> [UInt8] {
    guard isExpandedView(tensor), case .strided(_, _, _, let strides, _) = tensor.layout else { return [] }
    var bytes = Array("speculators-view/1\u{0}\(tensor.dtype.rawValue)\u{0}".utf8)
    func append(_ value: Int) { withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) } }
    append(tensor.shape.count)
    tensor.shape.forEach(append)
    strides.forEach(append)
    return bytes
  }

  /// Calls `body` with the bytes a tensor's digest and value statistics are computed from:
  /// its dense little-endian bytes (as ``forEachChunk(of:maxChunk:_:)``), or, for an expanded
  /// view, the dense little-endian bytes of the storage window it spans, each stored element
  /// once. The work is bounded by the bytes stored, never by the view's shape.
  package func forEachValueChunk(
    of tensor: TensorInfo, maxChunk: Int = TensorReader.defaultChunk,
    _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    guard Self.isExpandedView(tensor), let window = Self.storageWindow(of: tensor),
      case .strided(let storageOffset, let storageLength, _, _, let bigEndian) = tensor.layout
    else {
      return try forEachChunk(of: tensor, maxChunk: maxChunk, body)
    }
    let stored = TensorInfo(
      name: tensor.name, dtype: tensor.dtype, shape: [window.count], file: tensor.file,
      layout: .strided(
        storageOffset: storageOffset, storageLength: storageLength, elementOffset: window.first, strides: [1],
        bigEndian: bigEndian))
    try forEachChunk(of: stored, maxChunk: maxChunk, body)
  }

  /// The tensor's dense little-endian bytes, in one array. Meant for small tensors (vocab maps,
  /// norms); large tensors should be streamed with ``forEachChunk(of:maxChunk:_:)``.
  package func bytes(of tensor: TensorInfo) throws(CheckpointError) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(tensor.byteCount)
    do {
      try forEachChunk(of: tensor) { out.append(contentsOf: $0) }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
    return out
  }

  private static func gather(
    storage: UnsafeRawBufferPointer, elementSize: Int, shape: [Int], strides: [Int],
    elementOffset: Int, bigEndian: Bool, maxChunk: Int, tensor: TensorInfo,
    _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    let total = tensor.elementCount
    if total == 0 { return }
    // Bounds: the furthest element reachable must lie inside the storage.
    var furthest = elementOffset
    for (dim, stride) in zip(shape, strides) {
      guard stride >= 0 else {
        throw (CheckpointError(.unsupported, file: tensor.file, tensor: tensor.name, reason: "negative stride"))
      }
      let (span, o1) = (dim - 1).multipliedReportingOverflow(by: stride)
      let (sum, o2) = furthest.addingReportingOverflow(span)
      guard !o1, !o2 else {
        throw (CheckpointError(.malformed, file: tensor.file, tensor: tensor.name, reason: "view extent overflows"))
      }
      furthest = sum
    }
    guard elementOffset >= 0, (furthest + 1).multipliedReportingOverflow(by: elementSize).partialValue <= storage.count
    else {
      throw (CheckpointError(
        .malformed, file: tensor.file, tensor: tensor.name, reason: "view reaches outside its storage"))
    }
    let rank = shape.count
    let innerCount = rank == 0 ? 1 : shape[rank - 1]
    let innerStride = rank == 0 ? 1 : strides[rank - 1]
    let elementsPerChunk = max(innerCount, (max(maxChunk, elementSize) / elementSize) / max(innerCount, 1) * innerCount)
    var buffer = [UInt8](repeating: 0, count: elementsPerChunk * elementSize)
    var index = [Int](repeating: 0, count: max(rank - 1, 0))
    var produced = 0
    var filled = 0
    while produced < total {
      // Storage element of the first inner element at the current outer index.
      var base = elementOffset
      for axis in 0..<index.count { base += index[axis] * strides[axis] }
      buffer.withUnsafeMutableBytes { destination in
        if innerStride == 1 {
          let source = UnsafeRawBufferPointer(rebasing: storage[(base * elementSize)..<((base + innerCount) * elementSize)])
          UnsafeMutableRawBufferPointer(rebasing: destination[(filled * elementSize)...]).copyMemory(from: source)
        } else {
          for inner in 0..<innerCount {
            let from = (base + inner * innerStride) * elementSize
            let to = (filled + inner) * elementSize
            UnsafeMutableRawBufferPointer(rebasing: destination[to..<to + elementSize])
              .copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[from..<from + elementSize]))
          }
        }
        if bigEndian && elementSize > 1 {
          for inner in 0..<innerCount {
            let at = (filled + inner) * elementSize
            var low = at
            var high = at + elementSize - 1
            while low < high {
              destination.swapAt(low, high)
              low += 1
              high -= 1
            }
          }
        }
      }
      filled += innerCount
      produced += innerCount
      if filled + innerCount > elementsPerChunk || produced >= total {
        try buffer.withUnsafeBytes { all in
          try body(UnsafeRawBufferPointer(rebasing: all[0..<(filled * elementSize)]))
        }
        filled = 0
      }
      // Advance the outer index (odometer).
      var axis = index.count - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
  }
}

