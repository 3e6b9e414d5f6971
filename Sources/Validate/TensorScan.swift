import Inspect

/// Every byte `--content` and `--manifest` read, read once and concurrently.
///
/// The checks that read tensor data ask for what they need up front (``Request``): the SHA-256
/// of files, the XXH3-128 and the value statistics of tensors, and the verifier embedding's
/// digest after the draft's cast. A tensor wanted by several checks is read once, in
/// cache-sized blocks that feed its digest and its statistics back to back, and all the pieces
/// run on every core, largest first, so the single-stream SHA-256 of a shard overlaps the tensor
/// work instead of following it.
///
/// A piece that fails keeps its error until a check asks for that result, which then throws it
/// where it would have read the bytes itself: findings, and which error ends a run, do not
/// depend on the pass being shared. A result nobody asked for is computed on demand.
final class TensorScan: Sendable {
  /// What the checks will ask for.
  struct Request {
    /// Files whose SHA-256 is wanted (`manifest.file-digest`).
    var fileDigests: [String] = []
    /// Tensors whose XXH3-128 is wanted, each counted in progress.
    var tensorDigests: [TensorInfo] = []
    /// Tensors whose XXH3-128 is wanted without counting in progress (the draft's embedding).
    var uncountedDigests: [TensorInfo] = []
    /// Tensors whose value statistics are wanted (`content.*`), each counted in progress.
    var statistics: [TensorInfo] = []
    /// A tensor of another checkpoint whose digest after a cast to a dtype is wanted
    /// (`verifier.embeddings-match`).
    var castDigest: (tensor: TensorInfo, dtype: DType)?
  }

  /// The bytes of a tensor: tensors with equal regions have equal dense bytes.
  struct Region: Hashable, Sendable {
    var file: String
    var layout: TensorLayout
    var dtype: DType
    var shape: [Int]

    init(_ tensor: TensorInfo) {
      file = tensor.file
      layout = tensor.layout
      dtype = tensor.dtype
      shape = tensor.shape
    }
  }

  /// What one piece of work produced: a digest (of a file, a tensor or a cast tensor) and, for
  /// a tensor, its statistics.
  struct PieceResult: Sendable {
    var digest: String?
    var statistics: TensorStatistics?
  }

  /// The bytes handed to the digest and the statistics at a time: small enough to stay in the
  /// core's L2 cache between the two.
  static let blockSize = 256 << 10

  private let reader: TensorReader
  private let plan: ScanPlan
  /// What each of `plan.pieces` produced, in the same order (empty when nothing ran).
  private let outcomes: [Result<PieceResult, CheckpointError>]

  /// Reads everything `request` asks for, concurrently, and keeps the results.
  ///
  /// - Parameters:
  ///   - reader: reads the checkpoint's tensors (``Request/castDigest`` gets a reader of its own).
  ///   - progress: advanced by the bytes of each file hashed and, for each tensor of
  ///     ``Request/tensorDigests`` and ``Request/statistics``, by its bytes (a region wanted twice
  ///     counts twice, as if read twice).
  init(_ request: Request, reader: TensorReader, progress: ProgressCounter?) {
    self.reader = reader
    let plan = ScanPlan(request)
    let pieces = plan.pieces
    // The pieces never throw (a failure is their result); ConcurrentWork's own error, a missing
    // result, leaves nothing kept and every result computed on demand.
    outcomes =
      (try? ConcurrentWork.map(count: pieces.count, cost: { pieces[$0].cost }) {
        pieces[$0].run(reader: reader, progress: progress)
      }) ?? []
    self.plan = plan
  }

  /// The SHA-256 of the file at `path`.
  func fileDigest(_ path: String) throws(CheckpointError) -> String {
    if let slot = plan.files[path], let result = outcome(slot) {
      return try result.get().digest ?? ""
    }
    return try CheckpointHasher.sha256(ofFile: path)
  }

  /// The XXH3-128 of `tensor`'s dense bytes.
  func digest(of tensor: TensorInfo) throws(CheckpointError) -> String {
    if let digest = try result(for: tensor)?.digest { return digest }
    return try CheckpointHasher.xxh3(of: tensor, reader: reader)
  }

  /// The value statistics of `tensor`.
  func statistics(of tensor: TensorInfo) throws(CheckpointError) -> TensorStatistics {
    if let statistics = try result(for: tensor)?.statistics { return statistics }
    return try TensorStatistics.compute(tensor, reader: reader)
  }

  /// The XXH3-128 of `tensor` (of another checkpoint) cast to `dtype`.
  func castDigest(of tensor: TensorInfo, to dtype: DType) throws(CheckpointError) -> String {
    if let slot = plan.cast, case .cast(tensor, dtype) = plan.pieces[slot], let result = outcome(slot) {
      return try result.get().digest ?? ""
    }
    return try EmbeddingDigest.digest(tensor, castTo: dtype, reader: TensorReader())
  }

  /// The indices of `costs`, largest cost first: the order work was started in, and the order
  /// in which results are collected (so the error thrown is the first the work would meet).
  static func largestFirst(_ costs: [Int]) -> [Int] {
    costs.indices.sorted { costs[$0] > costs[$1] }
  }

  /// The pass over `tensor`'s region, if one ran. A failure is rethrown naming `tensor`, which
  /// may be another name for the tensor the pass read (a view without a wrapper prefix).
  private func result(for tensor: TensorInfo) throws(CheckpointError) -> PieceResult? {
    guard let slot = plan.regions[Region(tensor)], let result = outcome(slot),
      case .region(let work) = plan.pieces[slot]
    else { return nil }
    switch result {
    case .success(let result): return result
    case .failure(var error):
      if error.tensor == work.tensor.name { error.tensor = tensor.name }
      throw error
    }
  }

  /// The outcome of piece `slot`, if the pieces ran.
  private func outcome(_ slot: Int) -> Result<PieceResult, CheckpointError>? {
    outcomes.indices.contains(slot) ? outcomes[slot] : nil
  }
}

/// The pieces of a request, and where each result is among them.
private struct ScanPlan: Sendable {
  /// Each file once, then each region once with everything it feeds, then the cast.
  var pieces: [ScanPiece] = []
  /// The piece hashing each file.
  var files: [String: Int] = [:]
  /// The piece reading each region.
  var regions: [TensorScan.Region: Int] = [:]
  /// The piece casting, if any.
  var cast: Int?

  init(_ request: TensorScan.Request) {
    for path in request.fileDigests where files[path] == nil {
      files[path] = pieces.count
      pieces.append(.file(path))
    }
    var works: [RegionWork] = []
    var slots: [TensorScan.Region: Int] = [:]
    slots.reserveCapacity(request.tensorDigests.count + request.statistics.count)
    func want(_ tensor: TensorInfo, digest: Bool, statistics: Bool, weight: Int) {
      let region = TensorScan.Region(tensor)
      let slot: Int
      if let existing = slots[region] {
        slot = existing
      } else {
        slot = works.count
        slots[region] = slot
        works.append(RegionWork(tensor: tensor))
      }
      works[slot].digest = works[slot].digest || digest
      works[slot].statistics = works[slot].statistics || statistics
      works[slot].weight += weight
    }
    for tensor in request.tensorDigests { want(tensor, digest: true, statistics: false, weight: 1) }
    for tensor in request.uncountedDigests { want(tensor, digest: true, statistics: false, weight: 0) }
    for tensor in request.statistics { want(tensor, digest: false, statistics: true, weight: 1) }
    let first = pieces.count
    regions = slots.mapValues { first + $0 }
    pieces += works.map(ScanPiece.region)
    if let request = request.castDigest {
      cast = pieces.count
      pieces.append(.cast(request.tensor, request.dtype))
    }
  }
}

/// One piece of a scan's work, run on whichever core is free.
private enum ScanPiece: Sendable {
  /// The SHA-256 of a file.
  case file(String)
  /// One pass over a tensor's bytes.
  case region(RegionWork)
  /// The digest of a tensor of another checkpoint after a cast.
  case cast(TensorInfo, DType)

  /// The bytes the piece reads, to start the largest first.
  var cost: Int {
    switch self {
    case .file(let path): CheckpointHasher.fileSize(path)
    case .region(let work): work.tensor.byteCount
    case .cast(let tensor, _): tensor.byteCount
    }
  }

  /// Does the work; a failure is the result rather than thrown, so that every piece runs.
  func run(reader: TensorReader, progress: ProgressCounter?)
    -> Result<TensorScan.PieceResult, CheckpointError>
  {
    switch self {
    case .file(let path):
      Result { () throws(CheckpointError) in
        TensorScan.PieceResult(digest: try CheckpointHasher.sha256(ofFile: path, progress: progress))
      }
    case .region(let work):
      Result { () throws(CheckpointError) in try work.run(reader: reader, progress: progress) }
    case .cast(let tensor, let dtype):
      Result { () throws(CheckpointError) in
        let digest = try EmbeddingDigest.digest(tensor, castTo: dtype, reader: TensorReader())
        return TensorScan.PieceResult(digest: digest)
      }
    }
  }
}

/// One region's pass: which results it feeds and how many progress shares its bytes count for.
private struct RegionWork: Sendable {
  var tensor: TensorInfo
  var digest = false
  var statistics = false
  var weight = 0

  init(tensor: TensorInfo) {
    self.tensor = tensor
  }

  /// Reads the region once, in ``TensorScan/blockSize`` blocks, into the digest and the
  /// statistics asked for.
  func run(reader: TensorReader, progress: ProgressCounter?) throws(CheckpointError)
    -> TensorScan.PieceResult
  {
    var stats = statistics ? TensorStatistics() : nil
    let dtype = tensor.dtype
    let weight = weight
    var digest: String?
    do {
      if self.digest {
        var hasher = XXH3Hasher()
        TensorReader.digestPrefix(of: tensor).withUnsafeBytes { hasher.update($0) }
        try reader.forEachValueChunk(of: tensor, maxChunk: TensorReader.defaultChunk) { chunk in
          Self.forEachBlock(of: chunk) { block in
            hasher.update(block)
            stats?.add(block, dtype: dtype)
          }
          if weight > 0 { progress?.advance(by: chunk.count * weight) }
        }
        digest = hasher.finalizeHex()
      } else {
        try reader.forEachValueChunk(of: tensor, maxChunk: TensorReader.defaultChunk) { chunk in
          Self.forEachBlock(of: chunk) { stats?.add($0, dtype: dtype) }
          if weight > 0 { progress?.advance(by: chunk.count * weight) }
        }
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
    return TensorScan.PieceResult(digest: digest, statistics: stats)
  }

  /// `chunk` in consecutive pieces of at most ``TensorScan/blockSize`` bytes (a multiple of every
  /// element size, so no element is split).
  private static func forEachBlock(
    of chunk: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void
  ) {
    var start = 0
    while start < chunk.count {
      let stop = min(chunk.count, start + TensorScan.blockSize)
      body(UnsafeRawBufferPointer(rebasing: chunk[start..<stop]))
      start = stop
    }
  }
}
