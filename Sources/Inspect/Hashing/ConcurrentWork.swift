import Dispatch
import Synchronization

/// Runs independent pieces of work on all cores and collects their results in order: the one
/// parallel-map helper (files, tensors, shards, blocks of report rows).
///
/// Work items are started largest first (by the caller's `cost`), so one big file or tensor
/// does not end up alone at the tail while the other cores idle.
package enum ConcurrentWork {
  /// Calls `body` for every index in `0..<count`, concurrently, and returns the results in
  /// index order.
  ///
  /// When items fail, the error of the lowest failing index is rethrown after every started
  /// item has finished, so the error does not depend on scheduling; items with a higher index
  /// than a failed one are skipped once the failure is seen. With a `body` that cannot throw
  /// (`E == Never`) this is a plain parallel map.
  ///
  /// - Parameters:
  ///   - count: the number of items.
  ///   - cost: a relative cost per item (bytes), used only to order the work.
  ///   - body: the work for one index; must be safe to run concurrently with itself.
  package static func map<T: Sendable, E: Error>(
    count: Int, cost: (Int) -> Int = { _ in 0 }, _ body: @Sendable (Int) throws(E) -> T
  ) throws(E) -> [T] {
    guard count > 0 else { return [] }
    if count == 1 { return [try body(0)] }
    let order = (0..<count).sorted { cost($0) > cost($1) }
    let results = Mutex<[T?]>([T?](repeating: nil, count: count))
    // The lowest failing index and its error.
    let failure = Mutex<(index: Int, error: E)?>(nil)
    DispatchQueue.concurrentPerform(iterations: count) { slot in
      let index = order[slot]
      if failure.withLock({ ($0?.index ?? Int.max) < index }) { return }
      do throws(E) {
        let value = try body(index)
        results.withLock { $0[index] = value }
      } catch {
        failure.withLock { if ($0?.index ?? Int.max) > index { $0 = (index, error) } }
      }
    }
    if let failed = failure.withLock({ $0 }) { throw failed.error }
    // Every index ran and succeeded (no failure was recorded), so every slot holds a value.
    return results.withLock { $0 }.compactMap { $0 }
  }
}
