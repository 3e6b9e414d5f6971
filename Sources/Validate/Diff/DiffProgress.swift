/// How far a diff has got, reported as tensor pairs finish.
public struct DiffProgress: Sendable, Equatable {
  /// Tensor pairs compared so far.
  public var pairsDone: Int
  /// Tensor pairs to compare.
  public var pairsTotal: Int
  /// Tensor bytes (both sides) of the pairs compared so far.
  public var bytesDone: Int
  /// Tensor bytes (both sides) of all pairs. Pairs whose bytes differ are read twice, so the
  /// work is between this and twice this.
  public var bytesTotal: Int

  /// Creates a progress value.
  package init(pairsDone: Int, pairsTotal: Int, bytesDone: Int, bytesTotal: Int) {
    self.pairsDone = pairsDone
    self.pairsTotal = pairsTotal
    self.bytesDone = bytesDone
    self.bytesTotal = bytesTotal
  }
}

/// Receives ``DiffProgress`` from the threads comparing tensors; must be thread-safe.
public typealias DiffProgressHandler = @Sendable (DiffProgress) -> Void
