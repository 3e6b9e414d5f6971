import Inspect

/// One thing that happened while fetching a model file.
public enum DownloadEvent: Sendable, Equatable {
  /// A transfer began; `resumedAt` is non-zero when a partial download is being continued.
  case started(label: String, totalBytes: Int64?, resumedAt: Int64)
  /// Bytes of the file on disk so far (the update's task is the transfer's label).
  case progressed(ProgressUpdate)
  /// The file was downloaded and verified; `bytes` is its size.
  case finished(label: String, bytes: Int64)
  /// The connection failed and the transfer will be resumed from `bytes`.
  case retrying(label: String, bytes: Int64, reason: String)
  /// Something the user should know about a transfer that still succeeded (a server that
  /// ignores `Range`).
  case notice(label: String, message: String)
}

/// Receives ``DownloadEvent``s: silent, or a closure (the executable renders them on stderr).
public struct DownloadProgress: Sendable {
  private let handler: @Sendable (DownloadEvent) -> Void

  /// Calls `handler` for every event (from the downloading thread).
  public init(_ handler: @escaping @Sendable (DownloadEvent) -> Void) {
    self.handler = handler
  }

  /// Reports nothing.
  public static let silent = DownloadProgress { _ in }

  /// Delivers `event`.
  package func report(_ event: DownloadEvent) { handler(event) }
}
