import Dispatch
import Synchronization

/// Runs independent pieces of work on all cores and collects their results in order.
///
/// Work items are started largest first (by the caller's `cost`), so one big file or tensor
/// does not end up alone at the tail while the other cores idle.
public enum ConcurrentWork {
  /// Calls `body` for every index in `0..<count`, concurrently, and returns the results in
  /// index order. The first error thrown (by index order of discovery) is rethrown after every
  /// started item has finished; items not yet started are skipped once an error is seen.
  ///
  /// - Parameters:
  ///   - count: the number of items.
  ///   - cost: a relative cost per item (bytes), used only to order the work.
  ///   - body: the work for one index; must be safe to run concurrently with itself.
  public static func map<T: Sendable>(
    count: Int, cost: (Int) -> Int = { _ in 0 }, _ body: @Sendable (Int) throws(CheckpointError) -> T
  ) throws(CheckpointError) -> [T] {
    guard count > 0 else { return [] }
    let order = (0..<count).sorted { cost($0) > cost($1) }
    let results = Mutex<[T?]>([T?](repeating: nil, count: count))
    let failure = Mutex<CheckpointError?>(nil)
    if count == 1 {
      return [try body(0)]
    }
    DispatchQueue.concurrentPerform(iterations: count) { slot in
      if failure.withLock({ $0 != nil }) { return }
      let index = order[slot]
      do throws(CheckpointError) {
        let value = try body(index)
        results.withLock { $0[index] = value }
      } catch {
        failure.withLock { if $0 == nil { $0 = error } }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
    var out: [T] = []
    out.reserveCapacity(count)
    for value in results.withLock({ $0 }) {
      guard let value else {
        throw CheckpointError(
          .io, file: "", reason: "internal error: a concurrent work item produced no result")
      }
      out.append(value)
    }
    return out
  }
}
