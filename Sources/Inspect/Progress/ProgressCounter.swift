import Synchronization

/// Counts the bytes that concurrent workers (hashing, content scans, tensor writing) process
/// for one task and reports each new total as a ``ProgressUpdate``.
///
/// When the work reads some bytes more than once (hashing both the files and the tensors
/// inside them), `work` is what the workers will count and `total` what is reported: the
/// count is scaled, so each byte of the input counts once.
package final class ProgressCounter: Sendable {
  /// The task reported.
  package let task: String
  /// The bytes reported as the total.
  package let total: Int
  /// The bytes the workers will count in all.
  package let work: Int
  private let done = Atomic<Int>(0)
  private let handler: ProgressHandler

  /// Creates a counter for `task` reporting to `handler`: the workers count `work` bytes
  /// (default `total`), shown as `total`.
  package init(task: String, total: Int, work: Int? = nil, handler: @escaping ProgressHandler) {
    self.task = task
    self.total = total
    self.work = work ?? total
    self.handler = handler
  }

  /// Records `bytes` more bytes processed.
  package func advance(by bytes: Int) {
    let now = done.add(bytes, ordering: .relaxed).newValue
    let shown = work == total ? now : Int(Double(now) / Double(max(work, 1)) * Double(total))
    handler(ProgressUpdate(task: task, bytesDone: min(shown, total), bytesTotal: total))
  }

  /// The bytes counted so far (unscaled).
  package var completed: Int { done.load(ordering: .relaxed) }
}
