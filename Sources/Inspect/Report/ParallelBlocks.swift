/// Work on a long list (100,000 tensors, rows or entries) split into blocks that run on
/// separate threads, with the results back in block order.
enum ParallelBlocks {
  /// `0..<count` cut into consecutive ranges of `size` (the last may be shorter).
  static func ranges(_ count: Int, size: Int) -> [Range<Int>] {
    let size = max(1, size)
    return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
  }

  /// `body(0)`, ..., `body(count - 1)`, on separate threads when there is more than one, in
  /// index order (``ConcurrentWork/map(count:cost:_:)``).
  static func map<Result: Sendable>(_ count: Int, _ body: @Sendable (Int) -> Result) -> [Result] {
    ConcurrentWork.map(count: count, body)
  }
}
