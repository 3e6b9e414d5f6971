import Inspect

/// The outcome of comparing one tensor with its counterpart.
public struct TensorComparison: Sendable {
  /// The verdict for the pair.
  public enum Status: String, Sendable, CaseIterable {
    /// Same dtype, shape and bytes (equal XXH3-128 digests).
    case identical
    /// Every value equal, but the bytes differ: another dtype (F16 vs F32), or signed zeros
    /// or NaN payloads. A difference unless values are compared (`--values`).
    case equalValues = "equal-values"
    /// Values differ, all within tolerance (only with `--values`).
    case withinTolerance = "within-tolerance"
    /// Values (or, without values to read, digests) differ.
    case different
    /// The shapes differ; values are not compared.
    case shapeChanged = "shape-changed"
    /// Same dtype and shape; the bytes were not read (a structure-only comparison:
    /// ``DiffOptions/structureOnly``). Not a difference.
    case bytesNotRead = "bytes-not-read"
    /// The dtypes differ and the values cannot be read (a manifest side, or a dtype that is not
    /// decoded).
    case notComparable = "not-comparable"
    /// Only A holds the tensor.
    case onlyInA = "only-in-a"
    /// Only B holds the tensor.
    case onlyInB = "only-in-b"
    /// A source tensor the conversion leaves out, as the conversion rules say it should.
    case dropped
    /// A conversion tensor that does not come from the source, as the conversion rules say.
    case added
  }

  /// One side's view of the tensor.
  public struct Side: Sendable, Equatable {
    /// The tensor's name on this side.
    public var name: String
    /// The element type.
    public var dtype: DType
    /// The shape.
    public var shape: [Int]
    /// The file holding it, relative to the checkpoint directory.
    public var file: String
    /// XXH3-128 of its dense little-endian bytes, when it was computed or recorded.
    public var digest: String?
  }

  /// A's tensor, if A holds it.
  public var a: Side?
  /// B's tensor, if B holds it.
  public var b: Side?
  /// The verdict.
  public var status: Status
  /// Value statistics, when the values were compared.
  public var statistics: ValueStatistics?
  /// A short explanation (why a tensor was dropped, what a digest was compared with, ...).
  public var note: String?

  /// The name to show: A's, or B's when only B holds the tensor.
  public var name: String { a?.name ?? b?.name ?? "" }

  /// Whether this comparison makes the checkpoints different. Tensors the conversion rules
  /// drop or add are expected and do not; tensors equal in value count as equal only when
  /// values are compared.
  public func isDifference(comparingValues: Bool) -> Bool {
    switch status {
    case .identical, .dropped, .added, .withinTolerance, .bytesNotRead: return false
    case .equalValues: return !comparingValues
    case .different, .shapeChanged, .notComparable, .onlyInA, .onlyInB: return true
    }
  }
}

/// Compares one pair of tensors: digests first, then (if the bytes differ and values can be
/// read) a streaming value pass over both tensors in lockstep.
enum TensorDiff {
  /// Elements per block in the value pass: two `Double` buffers of this size per comparison.
  static let blockElements = 1 << 16

  static func compare(_ pair: TensorPair, reader: TensorReader, options: DiffOptions) throws(CheckpointError)
    -> TensorComparison
  {
    let sideA = pair.a.map(side(of:))
    let sideB = pair.b.map(side(of:))
    switch pair.kind {
    case .onlyInA: return TensorComparison(a: sideA, b: nil, status: .onlyInA, note: pair.note)
    case .onlyInB: return TensorComparison(a: nil, b: sideB, status: .onlyInB, note: pair.note)
    case .dropped(let reason): return TensorComparison(a: sideA, b: sideB, status: .dropped, note: reason)
    case .added(let reason): return TensorComparison(a: sideA, b: sideB, status: .added, note: reason)
    case .counterpart: break
    }
    guard let a = pair.a, let b = pair.b, var sideA, var sideB else {
      return TensorComparison(a: sideA, b: sideB, status: .notComparable, note: "internal: incomplete pair")
    }
    var comparison = TensorComparison(a: sideA, b: sideB, status: .different, note: pair.note)
    if a.shape != b.shape {
      comparison.status = .shapeChanged
      return comparison
    }
    let sameDType = a.dtype == b.dtype
    if options.structureOnly {
      comparison.status = sameDType ? .bytesNotRead : .notComparable
      comparison.note = join(comparison.note, sameDType ? "bytes not read (headers only)" : "dtypes differ; values not read (headers only)")
      return comparison
    }
    if sameDType {
      sideA.digest = try recordedOrComputedDigest(of: a, reader: reader)
      sideB.digest = try recordedOrComputedDigest(of: b, reader: reader)
      comparison.a = sideA
      comparison.b = sideB
      if sideA.digest == sideB.digest {
        comparison.status = .identical
        return comparison
      }
    }
    guard let infoA = a.info, let infoB = b.info else {
      comparison.status = sameDType ? .different : .notComparable
      comparison.note = join(
        comparison.note, sameDType ? "digests differ; a manifest holds no values" : "a manifest holds no values")
      return comparison
    }
    if TensorReader.isExpandedView(infoA) || TensorReader.isExpandedView(infoB) {
      // Element by element would walk the view's shape, not its storage.
      comparison.status = sameDType ? .different : .notComparable
      comparison.note = join(
        comparison.note, "an expanded view (stride 0) is compared by its storage and view; values not compared")
      return comparison
    }
    guard ElementCodec.canDecode(a.dtype), ElementCodec.canDecode(b.dtype) else {
      comparison.status = sameDType ? .different : .notComparable
      comparison.note = join(comparison.note, "values of \(a.dtype.rawValue)/\(b.dtype.rawValue) are not decoded")
      return comparison
    }
    let outcome = try valuePass(infoA, infoB, reader: reader, options: options, hashing: !sameDType)
    if !sameDType {
      sideA.digest = outcome.digestA
      sideB.digest = outcome.digestB
      comparison.a = sideA
      comparison.b = sideB
    }
    let statistics = outcome.statistics
    comparison.statistics = statistics
    if statistics.beyondTolerance > 0 {
      comparison.status = .different
    } else if statistics.maxAbsDifference == 0 {
      comparison.status = .equalValues
      if sameDType { comparison.note = join(comparison.note, "bytes differ (signed zeros or NaN payloads)") }
    } else {
      comparison.status = .withinTolerance
    }
    return comparison
  }

  private static func side(of tensor: DiffSide.Tensor) -> TensorComparison.Side {
    TensorComparison.Side(
      name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, file: tensor.file, digest: tensor.recordedDigest)
  }

  private static func join(_ first: String?, _ second: String) -> String {
    first.map { "\($0); \(second)" } ?? second
  }

  private static func recordedOrComputedDigest(
    of tensor: DiffSide.Tensor, reader: TensorReader
  ) throws(CheckpointError) -> String {
    if let recorded = tensor.recordedDigest { return recorded }
    return try digest(of: tensor, reader: reader)
  }

  /// XXH3-128 of the tensor's dense little-endian bytes: the digest of
  /// ``CheckpointHasher/xxh3(of:reader:progress:)``, computed here so that each chunk's pages
  /// are released once hashed (``PageRelease``) and a diff of multi-GB tensors stays small in
  /// memory.
  static func digest(of tensor: DiffSide.Tensor, reader: TensorReader) throws(CheckpointError) -> String {
    guard let info = tensor.info else {
      throw CheckpointError(.notFound, file: tensor.file, tensor: tensor.name, reason: "no bytes to hash")
    }
    let hasher = StreamingDigest()
    TensorReader.digestPrefix(of: info).withUnsafeBytes { hasher.update($0) }
    let file = try reader.mapping(for: info.file)
    try rethrowingAsCheckpointError(info) {
      try reader.forEachValueChunk(of: info) { chunk in
        hasher.update(chunk)
        PageRelease.release(chunk, in: file)
      }
    }
    PageRelease.release(info, reader: reader)
    return hasher.finish()
  }

  struct ValuePassOutcome {
    var statistics: ValueStatistics
    var digestA: String?
    var digestB: String?
  }

  /// Streams both tensors block by block (the same element ranges on both sides, whatever their
  /// dtypes and layouts), decodes each block to `Double` and accumulates the statistics. Memory:
  /// two blocks of ``blockElements`` doubles, plus at most one block of bytes per side; mapped
  /// pages are released as blocks are consumed (``PageRelease``).
  static func valuePass(
    _ a: TensorInfo, _ b: TensorInfo, reader: TensorReader, options: DiffOptions, hashing: Bool
  ) throws(CheckpointError) -> ValuePassOutcome {
    var statistics = StreamingStatistics(
      relativeTolerance: options.relativeTolerance, absoluteTolerance: options.absoluteTolerance)
    let hasherA = hashing ? StreamingDigest() : nil
    let hasherB = hashing ? StreamingDigest() : nil
    let sizeA = a.dtype.bytesPerElement ?? 1
    let sizeB = b.dtype.bytesPerElement ?? 1
    var valuesA = [Double](repeating: 0, count: blockElements)
    var valuesB = [Double](repeating: 0, count: blockElements)
    let carryA = BlockBuffer()
    let carryB = BlockBuffer()
    let fileA = try reader.mapping(for: a.file)
    let fileB = try reader.mapping(for: b.file)
    defer {
      PageRelease.release(a, reader: reader)
      PageRelease.release(b, reader: reader)
    }
    for block in TensorBlockPlan(shape: a.shape, maxElements: blockElements) {
      let viewA = try a.view(of: block)
      let viewB = try b.view(of: block)
      try rethrowingAsCheckpointError(a) {
        try carryA.withBytes(of: viewA, count: block.count * sizeA, reader: reader) { bytesA in
          hasherA?.update(bytesA)
          valuesA.withUnsafeMutableBufferPointer { _ = ElementCodec.decode(bytesA, as: a.dtype, into: $0) }
          PageRelease.release(bytesA, in: fileA)
          try carryB.withBytes(of: viewB, count: block.count * sizeB, reader: reader) { bytesB in
            hasherB?.update(bytesB)
            valuesB.withUnsafeMutableBufferPointer { _ = ElementCodec.decode(bytesB, as: b.dtype, into: $0) }
            PageRelease.release(bytesB, in: fileB)
          }
        }
      }
      valuesA.withUnsafeBufferPointer { bufferA in
        valuesB.withUnsafeBufferPointer { bufferB in
          statistics.add(
            a: UnsafeBufferPointer(rebasing: bufferA[0..<block.count]),
            b: UnsafeBufferPointer(rebasing: bufferB[0..<block.count]), startIndex: block.start)
        }
      }
    }
    return ValuePassOutcome(statistics: statistics.result, digestA: hasherA?.finish(), digestB: hasherB?.finish())
  }

  /// Runs `body`, turning anything it throws into a ``CheckpointError`` about `tensor`.
  static func rethrowingAsCheckpointError(_ tensor: TensorInfo, _ body: () throws -> Void) throws(CheckpointError) {
    do {
      try body()
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
  }
}

/// A streaming XXH3-128 digest with reference semantics, so closures can feed it.
final class StreamingDigest {
  private var hasher: XXH3Hasher? = XXH3Hasher()

  /// Adds bytes.
  func update(_ bytes: UnsafeRawBufferPointer) { hasher?.update(bytes) }

  /// The digest of everything added (the first call finishes the digest; later calls return "").
  func finish() -> String { hasher.take()?.finalizeHex() ?? "" }
}

/// The dense bytes of one block of a tensor, delivered in one piece whatever chunk sizes
/// ``TensorReader`` uses: zero-copy when the reader hands the block over whole, otherwise
/// gathered into a carry buffer of the block's size.
final class BlockBuffer {
  private var storage: [UInt8] = []

  /// Calls `body` once with the `count` bytes of `view`.
  func withBytes(
    of view: TensorInfo, count: Int, reader: TensorReader, _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    try withBytes(count: count, of: view, from: { try reader.forEachChunk(of: view, maxChunk: max(count, 1), $0) }, body)
  }

  /// Calls `body` once with the `count` bytes that `produce` hands over in pieces.
  func withBytes(
    count: Int, of view: TensorInfo,
    from produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
    _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    var delivered = false
    var filled = 0
    // `produce` calls back synchronously and never stores the closure, so `body` does not
    // outlive this call.
    try withoutActuallyEscaping(body) { body in
      try produce { chunk in
        if filled == 0 && !delivered && chunk.count == count {
          delivered = true
          try body(chunk)
          return
        }
        guard !delivered, chunk.count <= count - filled else {
          throw CheckpointError(
            .malformed, file: view.file, tensor: view.name, reason: "tensor holds more bytes than its shape")
        }
        if storage.count < count { storage = [UInt8](repeating: 0, count: count) }
        storage.withUnsafeMutableBytes { destination in
          UnsafeMutableRawBufferPointer(rebasing: destination[filled..<filled + chunk.count]).copyMemory(from: chunk)
        }
        filled += chunk.count
      }
    }
    if delivered { return }
    guard filled == count else {
      throw CheckpointError(.malformed, file: view.file, tensor: view.name, reason: "tensor holds fewer bytes than its shape")
    }
    try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
  }
}
