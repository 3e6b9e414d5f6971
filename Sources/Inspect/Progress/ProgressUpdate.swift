/// How far one piece of long-running work has got: what it is, and the bytes (and, where the
/// work is counted in tensors too, the tensors) done so far of the total.
///
/// This is the one progress value of the libraries: hashing, verify's content and manifest
/// reads, diff, convert's stages and downloads all report it to a ``ProgressHandler``, and the
/// executable renders it (a self-erasing line on a terminal).
public struct ProgressUpdate: Sendable, Equatable {
  /// What is being done, e.g. `hashing`, `writing tensors`, `org/name: model.safetensors`
  /// (untrusted when it names a file: renderers escape it).
  public var task: String
  /// The bytes done so far.
  public var bytesDone: Int
  /// The bytes the task will process, or `nil` when that is not known (a stage measured in
  /// nothing, a download without a length).
  public var bytesTotal: Int?
  /// The tensors (diff: tensor pairs) done so far, when the task counts them.
  public var tensorsDone: Int?
  /// The tensors the task will process, when it counts them.
  public var tensorsTotal: Int?

  /// Creates an update.
  package init(task: String, bytesDone: Int = 0, bytesTotal: Int? = nil, tensorsDone: Int? = nil, tensorsTotal: Int? = nil) {
    self.task = task
    self.bytesDone = bytesDone
    self.bytesTotal = bytesTotal
    self.tensorsDone = tensorsDone
    self.tensorsTotal = tensorsTotal
  }

  /// A stage that starts and reports no amounts (`reading draft`, `validating`).
  package static func stage(_ task: String) -> ProgressUpdate { ProgressUpdate(task: task) }
}

/// Receives ``ProgressUpdate``s, from whichever thread did the work: it must be thread-safe
/// and cheap (it is called after every chunk; renderers throttle on their side).
public typealias ProgressHandler = @Sendable (ProgressUpdate) -> Void
