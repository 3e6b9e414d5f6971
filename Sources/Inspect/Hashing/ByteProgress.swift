import Synchronization

/// Counts bytes processed by long-running work (hashing, content scans) and reports them to a
/// handler, from whichever thread did the work.
///
/// The handler is called after every chunk (at most every few MiB per worker), so it must be
/// cheap and thread-safe; renderers throttle on their side.
public final class ByteProgress: Sendable {
  /// The bytes the work is expected to process.
  public let total: Int
  private let done = Atomic<Int>(0)
  private let handler: @Sendable (_ done: Int, _ total: Int) -> Void

  /// Creates a counter for `total` bytes reporting to `handler`.
  public init(total: Int, handler: @escaping @Sendable (_ done: Int, _ total: Int) -> Void) {
    self.total = total
    self.handler = handler
  }

  /// Records `bytes` more bytes processed.
  public func advance(by bytes: Int) {
    let now = done.add(bytes, ordering: .relaxed).newValue
    handler(now, total)
  }

  /// The bytes processed so far.
  public var completed: Int { done.load(ordering: .relaxed) }
}
