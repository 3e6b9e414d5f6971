import Dispatch
import Inspect
import Synchronization

/// SHA-256 of a set of files, computed on a background thread while the caller does other work.
///
/// The converter hashes its source files for the manifest while it writes the output: the two
/// jobs are independent, so on a machine with more than one core the hashing costs no wall time.
/// ``result()`` waits for the digests (or the first error).
final class BackgroundFileDigests: Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let outcome = Mutex<Result<[String: String], CheckpointError>?>(nil)

  /// Starts hashing `paths` (see ``CheckpointHasher/fileDigests(_:progress:)``).
  init(_ paths: [String]) {
    DispatchQueue.global().async { [self] in
      let result = Result { () throws(CheckpointError) in try CheckpointHasher.fileDigests(paths) }
      outcome.withLock { $0 = result }
      done.signal()
    }
  }

  /// Waits until the hashing has finished, whatever its outcome. A caller that gives up (an
  /// error while writing) calls this before returning, so the process never exits while the
  /// hashing thread still uses libcrypto (its exit-time teardown would crash under it).
  func wait() {
    done.wait()
    done.signal()
  }

  /// Waits for the digests, keyed by path.
  ///
  /// - Throws: the first ``CheckpointError`` met while hashing.
  func result() throws(CheckpointError) -> [String: String] {
    wait()  // Leaves the semaphore signalled, so later calls (and disposal) do not block.
    guard let result = outcome.withLock({ $0 }) else {
      throw CheckpointError(.io, file: "", reason: "internal error: background hashing produced no result")
    }
    return try result.get()
  }
}
