import Inspect
import Platform

/// An output directory written atomically: files go into a temporary sibling
/// (`.<name>.tmp-<pid>-<random>` in the same parent) that is renamed into place only when
/// everything succeeded.
///
/// - An existing non-empty output is refused unless `force` is set; then the new directory and
///   the old one swap places in one atomic `renameat2(RENAME_EXCHANGE)` and the old one is
///   deleted (where the file system cannot exchange, the old one is renamed aside first and put
///   back if the process dies in between, see below).
/// - An output path that exists as a file (or anything but a directory) is refused.
/// - ``discard()`` removes the temporary directory; after a failure nothing is left at the
///   output path, and no temporary directory is left in the parent.
/// - One writer at a time: ``create(at:force:)`` takes an exclusive `flock` on
///   `<parent>/.<name>.lock` (held until ``commit()`` or ``discard()``, released by the kernel
///   if the process dies) and refuses while another process holds it. Holding the lock, it also
///   cleans up after writers that were killed: their `.<name>.tmp-*` directories are deleted,
///   and a `.<name>.old-*` directory (the previous output, renamed aside) is put back when
///   nothing is at the output path.
///
/// So whatever moment a convert is killed at, the output path holds either its previous
/// content or the complete new output, never a mixture.
struct AtomicOutputDirectory {
  /// The output path as given.
  let finalPath: String
  /// The temporary directory the files are written to.
  let temporaryPath: String
  /// Whether the output path already exists (an empty directory, or anything with `force`).
  private let replacesExisting: Bool
  /// The writer lock, released by ``commit()`` and ``discard()``.
  private let lock: OutputLock

  /// Checks `outputPath` and creates the temporary sibling (and missing parent directories).
  ///
  /// - Throws: ``CheckpointError`` (`.invalidArgument`) when the output exists and is not a
  ///   directory, or is a non-empty directory without `force`; (`.io`) when the temporary
  ///   directory cannot be created.
  static func create(at outputPath: String, force: Bool) throws(CheckpointError) -> AtomicOutputDirectory {
    let trimmed = Self.trimmingTrailingSlashes(outputPath)
    guard !trimmed.isEmpty, trimmed != ".", trimmed != "..", !trimmed.hasSuffix("/."),
      !trimmed.hasSuffix("/..")
    else {
      throw CheckpointError(.invalidArgument, file: outputPath, reason: "not a usable output directory name")
    }
    let (parent, name) = split(trimmed)
    try makeDirectories(parent)
    let lock = try OutputLock.acquire(directory: parent, name: name, outputPath: outputPath)
    recoverFromKilledWriters(parent: parent, name: name, finalPath: trimmed)
    let replaces: Bool
    do throws(CheckpointError) {
      replaces = try checkExisting(trimmed, force: force)
    } catch {
      lock.release()
      throw error
    }
    var generator = SystemRandomNumberGenerator()
    let suffix = String(generator.next() as UInt64, radix: 16)
    let temporary = (parent == "" ? "" : parent + "/") + ".\(name).tmp-\(getpid())-\(suffix)"
    guard mkdir(temporary, 0o755) == 0 else {
      let reason = System.message()
      lock.release()
      throw CheckpointError(.io, file: outputPath, reason: "cannot create a temporary directory next to it: \(reason)")
    }
    return AtomicOutputDirectory(
      finalPath: trimmed, temporaryPath: temporary, replacesExisting: replaces, lock: lock)
  }

  private init(finalPath: String, temporaryPath: String, replacesExisting: Bool, lock: OutputLock) {
    self.finalPath = finalPath
    self.temporaryPath = temporaryPath
    self.replacesExisting = replacesExisting
    self.lock = lock
  }

  /// The path of `name` inside the temporary directory.
  func temporaryFile(_ name: String) -> String { temporaryPath + "/" + name }

  /// Syncs the temporary directory and renames it into place (replacing the old output when
  /// allowed), then syncs the parent.
  func commit() throws(CheckpointError) {
    defer { lock.release() }
    syncDirectory(temporaryPath)
    if replacesExisting, Self.exchange(temporaryPath, finalPath) {
      // The old output now sits at the temporary path.
      Self.removeTree(temporaryPath)
    } else if replacesExisting {
      var generator = SystemRandomNumberGenerator()
      let (parent, name) = Self.split(finalPath)
      let aside =
        (parent == "" ? "" : parent + "/")
        + ".\(name).old-\(getpid())-\(String(generator.next() as UInt64, radix: 16))"
      let movedAside = rename(finalPath, aside) == 0
      guard movedAside || errno == ENOENT else {
        throw CheckpointError(
          .io, file: finalPath,
          reason: "cannot move the existing output aside: \(System.message())")
      }
      guard rename(temporaryPath, finalPath) == 0 else {
        let reason = System.message()
        if movedAside { _ = rename(aside, finalPath) }
        throw CheckpointError(
          .io, file: finalPath, reason: "cannot move the new output into place: \(reason)")
      }
      if movedAside { Self.removeTree(aside) }
    } else {
      guard rename(temporaryPath, finalPath) == 0 else {
        throw CheckpointError(
          .io, file: finalPath,
          reason: "cannot move the new output into place: \(System.message())")
      }
    }
    syncDirectory(Self.split(finalPath).parent.isEmpty ? "." : Self.split(finalPath).parent)
  }

  /// Removes the temporary directory and everything in it.
  func discard() {
    Self.removeTree(temporaryPath)
    lock.release()
  }

  /// Swaps two paths atomically; `false` when the system or file system cannot (the caller
  /// then falls back to two renames).
  static func exchange(_ first: String, _ second: String) -> Bool {
    System.exchangePaths(first, second)
  }

  /// Cleans up after writers of the same output that were killed (the caller holds the lock,
  /// so no live writer owns these): puts a renamed-aside previous output back if nothing is at
  /// the output path, and deletes leftover temporary and renamed-aside directories.
  private static func recoverFromKilledWriters(parent: String, name: String, finalPath: String) {
    let directory = parent.isEmpty ? "." : parent
    let prefix = parent.isEmpty ? "" : parent + "/"
    let leftovers = (directoryEntries(directory) ?? []).filter {
      $0.hasPrefix(".\(name).tmp-") || $0.hasPrefix(".\(name).old-")
    }.sorted()
    var info = stat()
    if lstat(finalPath, &info) != 0, errno == ENOENT,
      let aside = leftovers.first(where: { $0.hasPrefix(".\(name).old-") })
    {
      _ = rename(prefix + aside, finalPath)
    }
    for leftover in leftovers { removeTree(prefix + leftover) }
  }

  // MARK: helpers

  /// Whether an existing output will be replaced; throws when it may not be.
  private static func checkExisting(_ path: String, force: Bool) throws(CheckpointError) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return false }
      throw CheckpointError(
        .io, file: path, reason: "cannot inspect the output path: \(System.message())")
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
      throw CheckpointError(
        .invalidArgument, file: path, reason: "the output path exists and is not a directory")
    }
    if force { return true }
    guard let entries = directoryEntries(path) else {
      throw CheckpointError(.io, file: path, reason: "cannot list the existing output directory")
    }
    guard entries.isEmpty else {
      throw CheckpointError(
        .invalidArgument, file: path,
        reason: "the output directory exists and is not empty (pass --force to replace it)")
    }
    return true
  }

  private static func trimmingTrailingSlashes(_ path: String) -> String {
    var result = path
    while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
    return result
  }

  /// Splits a path into its parent ("" for a bare name) and last component.
  static func split(_ path: String) -> (parent: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    let parent = String(path[..<slash])
    return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
  }

  private static func makeDirectories(_ path: String) throws(CheckpointError) {
    guard !path.isEmpty else { return }
    var info = stat()
    if stat(path, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw CheckpointError(.invalidArgument, file: path, reason: "the output's parent is not a directory")
      }
      return
    }
    try makeDirectories(split(path).parent == "/" ? "" : split(path).parent)
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
      throw CheckpointError(
        .io, file: path, reason: "cannot create the output's parent: \(System.message())")
    }
  }

  private func syncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
  }

  /// The names in a directory (without `.` and `..`), or `nil` when it cannot be read.
  static func directoryEntries(_ path: String) -> [String]? {
    guard let handle = opendir(path) else { return nil }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Deletes `path` and, for a directory, everything below it (symbolic links are not followed).
  static func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      for name in directoryEntries(path) ?? [] { removeTree(path + "/" + name) }
      rmdir(path)
    } else {
      unlink(path)
    }
  }
}

/// An exclusive advisory lock (`flock`) on `<directory>/.<name>.lock`, so two converts cannot
/// write the same output at once. The lock file is removed when the lock is released; a
/// process killed while holding it leaves the file, which the next writer reuses.
final class OutputLock: @unchecked Sendable {
  /// The lock file's path.
  let path: String
  private var descriptor: Int32

  private init(path: String, descriptor: Int32) {
    self.path = path
    self.descriptor = descriptor
  }

  /// Takes the lock without waiting.
  ///
  /// - Throws: ``CheckpointError`` (`.io`) naming `outputPath` when another process holds the
  ///   lock or the lock file cannot be created.
  static func acquire(directory: String, name: String, outputPath: String) throws(CheckpointError) -> OutputLock {
    let path = (directory.isEmpty ? "" : directory + "/") + ".\(name).lock"
    // A releasing holder unlinks the file before unlocking: retry when the locked file is no
    // longer the one at `path`.
    for _ in 0..<16 {
      let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
      guard fd >= 0 else {
        throw CheckpointError(
          .io, file: outputPath, reason: "cannot create the lock file \(path): \(System.message())")
      }
      guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
        let code = errno
        close(fd)
        if code == EWOULDBLOCK {
          throw CheckpointError(
            .io, file: outputPath,
            reason: "another convert is writing this output (it holds \(path)); try again when it has finished")
        }
        throw CheckpointError(.io, file: outputPath, reason: "cannot lock \(path): \(System.message(code))")
      }
      var held = stat()
      var current = stat()
      if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_dev == current.st_dev,
        held.st_ino == current.st_ino
      {
        return OutputLock(path: path, descriptor: fd)
      }
      close(fd)
    }
    throw CheckpointError(.io, file: outputPath, reason: "cannot lock \(path): it keeps being replaced")
  }

  /// Removes the lock file and releases the lock; later calls do nothing.
  func release() {
    guard descriptor >= 0 else { return }
    unlink(path)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}
