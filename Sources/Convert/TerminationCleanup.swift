import Synchronization

/// What the process removes when a termination signal (or a fatal read error) ends it early:
/// the temporary directories and lock files of the ``AtomicOutputDirectory`` writers still
/// open. Each writer registers itself when it creates its temporary directory and leaves when
/// it commits or discards.
package enum TerminationCleanup {
  private static let open = Mutex<[String: AtomicOutputDirectory]>([:])

  static func register(_ output: AtomicOutputDirectory) {
    open.withLock { $0[output.token] = output }
  }

  static func unregister(_ output: AtomicOutputDirectory) {
    _ = open.withLock { $0.removeValue(forKey: output.token) }
  }

  /// Runs `body` (the commit's renames) so that ``removeAll()`` waits for it instead of
  /// deleting a directory that is being renamed into place; the writer leaves the set after.
  static func committing<E: Error>(
    _ output: AtomicOutputDirectory, _ body: () throws(E) -> Void
  ) throws(E) {
    try open.withLock { (writers: inout [String: AtomicOutputDirectory]) throws(E) in
      writers.removeValue(forKey: output.token)
      try body()
    }
  }

  /// Removes every registered writer's temporary directory and lock, then calls `finish`
  /// (which exits the process) still holding the set: a commit in progress finishes first, and
  /// a writer that fails because its directory vanished blocks in ``AtomicOutputDirectory/discard()``
  /// instead of reporting that failure and exiting first. Called from the thread that handles a
  /// termination signal.
  package static func removeAll(then finish: () -> Never) -> Never {
    open.withLock { writers -> Never in
      for writer in writers.values { writer.removeTemporary() }
      writers.removeAll()
      finish()
    }
  }
}
