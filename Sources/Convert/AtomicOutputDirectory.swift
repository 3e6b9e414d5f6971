import Inspect
import Platform

/// An output directory written atomically: files go into a temporary sibling
/// (`.<name>.tmp-<token>` in the same parent, `<token>` 128 random bits in hex, unique to this
/// writer) that is renamed into place only when everything succeeded.
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
///   cleans up after writers that were killed: a `.<name>.tmp-<token>` directory is deleted
///   only when it holds the marker file ``markerName`` naming that same token (or nothing but
///   that marker cut short, a prefix of the token: a writer killed while writing it), so
///   directories the user made with similar names are never touched. Nothing this writer did not write is
///   ever renamed into the output path.
/// - Before its renames, ``commit()`` records its token in the lock file (see ``OutputLock``):
///   from removing the marker until the lock is released, the directories it is moving
///   (`.<name>.tmp-<token>`, which then holds the new output or, after the exchange, the old
///   one, and `.<name>.old-<token>`) carry no marker, and a writer killed in that window is
///   recognised by the next one from that record alone. That writer deletes the recorded
///   temporary directory, and the moved-aside previous output once the output path holds the
///   new one; a previous output moved aside with nothing in its place is left for the user.
/// - Names longer than `NAME_MAX` allows for the sibling (`.`, the suffix and the token) are
///   shortened, with a digest of the full name keeping them distinct.
///
/// So whatever moment a convert is killed at, the output path holds either its previous
/// content or the complete new output, never a mixture.
struct AtomicOutputDirectory: Sendable {
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
  /// - Throws: ``ConversionError`` (`.output`) when the output exists and is not a directory,
  ///   or is a non-empty directory without `force`; (`.write`) when the temporary directory
  ///   cannot be created.
  static func create(at outputPath: String, force: Bool) throws -> AtomicOutputDirectory {
    let trimmed = Self.trimmingTrailingSlashes(outputPath)
    guard !trimmed.isEmpty, trimmed != ".", trimmed != "..", !trimmed.hasSuffix("/."),
      !trimmed.hasSuffix("/..")
    else {
      throw ConversionError(.output, file: outputPath, reason: "not a usable output directory name")
    }
    let (parent, name) = split(trimmed)
    try makeDirectories(parent)
    let lock = try OutputLock.acquire(directory: parent, name: name, outputPath: outputPath)
    if let committing = lock.interruptedCommit {
      recoverFromKilledCommit(token: committing, parent: parent, name: name, output: trimmed)
      lock.clearCommit()
    }
    recoverFromKilledWriters(parent: parent, name: name)
    let replaces: Bool
    do throws {
      replaces = try checkExisting(trimmed, force: force)
    } catch {
      lock.release()
      throw error
    }
    let token = newToken()
    let temporary = (parent == "" ? "" : parent + "/") + siblingName(of: name, suffix: ".tmp-" + token)
    let output = AtomicOutputDirectory(
      finalPath: trimmed, temporaryPath: temporary, token: token, replacesExisting: replaces, lock: lock)
    TerminationCleanup.register(output)
    guard mkdir(temporary, 0o700) == 0 else {
      let reason = System.message()
      TerminationCleanup.unregister(output)
      lock.release()
      throw ConversionError(.write, file: outputPath, reason: "cannot create a temporary directory next to it: \(reason)")
    }
    guard writeMarker(in: temporary, token: token) else {
      let reason = System.message()
      output.discard()
      throw ConversionError(.write, file: outputPath, reason: "cannot write into the temporary directory next to it: \(reason)")
    }
    return output
  }

  private init(finalPath: String, temporaryPath: String, token: String, replacesExisting: Bool, lock: OutputLock) {
    self.finalPath = finalPath
    self.temporaryPath = temporaryPath
    self.token = token
    self.replacesExisting = replacesExisting
    self.lock = lock
  }

  /// This writer's token (32 hex digits), part of its temporary directory's name and the
  /// content of the marker file inside it.
  let token: String

  /// The marker file inside a temporary directory: it holds the directory's token, so only
  /// directories a convert created are ever cleaned up. Removed just before the rename.
  static let markerName = ".speculators-convert-temporary"

  /// The path of `name` inside the temporary directory.
  func temporaryFile(_ name: String) -> String { temporaryPath + "/" + name }

  /// Syncs the temporary directory and renames it into place (replacing the old output when
  /// allowed), then syncs the parent.
  func commit() throws {
    // A termination signal arriving meanwhile waits for the renames, then finds nothing of
    // this writer's to remove but the old output (or nothing).
    try TerminationCleanup.committing(self) { () throws in try commitLocked() }
  }

  private func commitLocked() throws {
    defer { lock.release() }
    // From here until the lock is released the directories being moved carry no marker: the
    // record in the lock file is what names them as this writer's if it is killed meanwhile.
    lock.recordCommit(token: token)
    unlink(temporaryPath + "/" + Self.markerName)
    syncDirectory(temporaryPath)
    if replacesExisting, Self.exchange(temporaryPath, finalPath) {
      // The old output now sits at the temporary path: marked, so that a writer killed while
      // deleting it leaves a directory the next one removes.
      _ = Self.writeMarker(in: temporaryPath, token: token)
      Self.removeMarkedTree(temporaryPath)
    } else if replacesExisting {
      let (parent, name) = Self.split(finalPath)
      let aside = (parent == "" ? "" : parent + "/") + Self.siblingName(of: name, suffix: ".old-" + token)
      let movedAside = rename(finalPath, aside) == 0
      guard movedAside || errno == ENOENT else {
        throw ConversionError(
          .write, file: finalPath,
          reason: "cannot move the existing output aside: \(System.message())")
      }
      guard rename(temporaryPath, finalPath) == 0 else {
        let reason = System.message()
        if movedAside { _ = rename(aside, finalPath) }
        throw ConversionError(
          .write, file: finalPath, reason: "cannot move the new output into place: \(reason)")
      }
      if movedAside { Self.removeTree(aside) }
    } else {
      guard rename(temporaryPath, finalPath) == 0 else {
        throw ConversionError(
          .write, file: finalPath,
          reason: "cannot move the new output into place: \(System.message())")
      }
    }
    syncDirectory(Self.split(finalPath).parent.isEmpty ? "." : Self.split(finalPath).parent)
  }

  /// Removes the temporary directory and everything in it.
  func discard() {
    TerminationCleanup.unregister(self)
    removeTemporary()
  }

  /// Removes the temporary directory and the lock (also called on a termination signal).
  func removeTemporary() {
    // The writer's threads may still be creating files in the directory while it is removed
    // (a file created after the listing makes rmdir fail); go again until it is gone. Once it
    // is, nothing can be created in it any more.
    for _ in 0..<64 {
      Self.removeMarkedTree(temporaryPath)
      if !FileSystem.existsWithoutFollowingLinks(temporaryPath) { break }
    }
    lock.release()
  }

  /// Swaps two paths atomically; `false` when the system or file system cannot (the caller
  /// then falls back to two renames).
  static func exchange(_ first: String, _ second: String) -> Bool {
    System.exchangePaths(first, second)
  }

  /// Cleans up after writers of the same output that were killed (the caller holds the lock,
  /// so no live writer owns these): deletes `.<name>.tmp-<token>` directories that hold a
  /// marker file naming their own token, and empty ones. Anything else, including a directory the user named
  /// like a temporary and a previous output a killed writer renamed aside (`.<name>.old-…`), is
  /// left alone.
  private static func recoverFromKilledWriters(parent: String, name: String) {
    let directory = parent.isEmpty ? "." : parent
    let prefix = parent.isEmpty ? "" : parent + "/"
    let stem = siblingName(of: name, suffix: ".tmp-")
    for entry in directoryEntries(directory) ?? [] where entry.hasPrefix(stem) {
      let token = String(entry.dropFirst(stem.count))
      guard isToken(token) else { continue }
      let marker = markerBytes(in: prefix + entry)
      if marker == Array(token.utf8) {
        removeMarkedTree(prefix + entry)
      } else {
        // Killed between creating it and writing its marker: it is empty, or holds only the
        // marker file cut short (a prefix of the token), so removing it loses nothing (rmdir
        // refuses a directory that holds anything else).
        if let marker, Array(token.utf8).starts(with: marker), directoryEntries(prefix + entry) == [markerName] {
          unlink(prefix + entry + "/" + markerName)
        }
        rmdir(prefix + entry)
      }
    }
  }

  /// Cleans up after a writer of the same output killed while committing (the lock file
  /// names its token; the caller holds the lock). Its temporary directory is deleted whatever
  /// it holds by then (the new output before the rename, the previous one after the exchange).
  /// A previous output it renamed aside (where the file system cannot exchange) is deleted when
  /// the output path holds the new one, and otherwise left, with the temporary directory, for
  /// the user to rename back: nothing but what a run wrote is renamed into the output path.
  private static func recoverFromKilledCommit(token: String, parent: String, name: String, output: String) {
    let prefix = parent.isEmpty ? "" : parent + "/"
    let temporary = prefix + siblingName(of: name, suffix: ".tmp-" + token)
    let aside = prefix + siblingName(of: name, suffix: ".old-" + token)
    if FileSystem.existsWithoutFollowingLinks(aside) {
      guard FileSystem.existsWithoutFollowingLinks(output) else { return }
      removeTree(aside)
    }
    removeTree(temporary)
  }

  /// A new writer token: 128 bits from the system's random source, as 32 hex digits.
  static func newToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return [generator.next() as UInt64, generator.next() as UInt64].map { word in
      let digits = String(word, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }.joined()
  }

  static func isToken(_ text: String) -> Bool {
    text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }

  /// The longest file name the sibling names may have (Linux and macOS `NAME_MAX`).
  static let nameMax = 255

  /// `.<name><suffix>`, or, when that exceeds ``nameMax`` bytes, `.<start of name>~<digest>
  /// <suffix>`: the longest prefix of `name` that fits (whole characters) and 16 hex digits of
  /// the XXH3-128 of the full name, so different long names keep different siblings.
  static func siblingName(of name: String, suffix: String) -> String {
    let plain = "." + name + suffix
    guard plain.utf8.count > nameMax else { return plain }
    let digest = name.utf8.withContiguousStorageIfAvailable { XXH3Hasher.hex(of: UnsafeRawBufferPointer($0)) }
      ?? Array(name.utf8).withUnsafeBytes { XXH3Hasher.hex(of: $0) }
    let tail = "~" + digest.prefix(16) + suffix
    var budget = nameMax - 1 - tail.utf8.count
    var kept = ""
    for character in name {
      let size = character.utf8.count
      guard size <= budget else { break }
      budget -= size
      kept.append(character)
    }
    return "." + kept + tail
  }

  private static func writeMarker(in directory: String, token: String) -> Bool {
    let fd = open(directory + "/" + markerName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array(token.utf8)
    return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
  }

  /// The bytes of a directory's marker file (at most a token's 32), or `nil` when it has none
  /// (or not a plain file, or a longer one).
  private static func markerBytes(in directory: String) -> [UInt8]? {
    var info = stat()
    guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
    let fd = open(directory + "/" + markerName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 32 else { return nil }
    let size = Int(info.st_size)
    var buffer = [UInt8](repeating: 0, count: size)
    guard buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, size) }) == size else { return nil }
    return buffer
  }

  // MARK: helpers

  /// Whether an existing output will be replaced; throws when it may not be.
  private static func checkExisting(_ path: String, force: Bool) throws -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return false }
      throw ConversionError(
        .output, file: path, reason: "cannot inspect the output path: \(System.message())")
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
      throw ConversionError(
        .output, file: path, reason: "the output path exists and is not a directory")
    }
    if force { return true }
    guard let entries = directoryEntries(path) else {
      throw ConversionError(.output, file: path, reason: "cannot list the existing output directory")
    }
    guard entries.isEmpty else {
      throw ConversionError(
        .output, file: path,
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

  private static func makeDirectories(_ path: String) throws {
    guard !path.isEmpty else { return }
    var info = stat()
    if stat(path, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw ConversionError(.output, file: path, reason: "the output's parent is not a directory")
      }
      return
    }
    try makeDirectories(split(path).parent == "/" ? "" : split(path).parent)
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
      throw ConversionError(
        .write, file: path, reason: "cannot create the output's parent: \(System.message())")
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

  /// Deletes a temporary directory with its marker last, so that a writer killed while
  /// deleting it leaves a directory still marked, which the next writer removes.
  static func removeMarkedTree(_ path: String) {
    for name in directoryEntries(path) ?? [] where name != markerName { removeTree(path + "/" + name) }
    removeTree(path)
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
/// write the same output at once. The lock file holds ``content``, followed by
/// `committing <token>` and a newline while a writer renames its output into place (an empty
/// file is a lock whose creator was killed before writing it); a file of that name with
/// anything else in it is not ours and is left alone. The lock file is removed when the lock
/// is released; a process killed while holding it leaves the file, which the next writer
/// reuses (reading the commit it records, ``interruptedCommit``).
final class OutputLock: @unchecked Sendable {
  /// The lock file's path.
  let path: String
  private var descriptor: Int32
  /// The token of a writer that was killed while committing (the lock file named it when
  /// this lock was taken), or `nil`.
  let interruptedCommit: String?

  /// What a lock file holds.
  static let content = Array("speculators convert lock\n".utf8)

  /// What follows ``content`` while a writer commits: this, its token and a newline.
  static let commitPrefix = Array("committing ".utf8)

  /// The longest lock file: ``content`` and a commit record.
  private static let maximumSize = content.count + commitPrefix.count + 32 + 1

  private init(path: String, descriptor: Int32, interruptedCommit: String?) {
    self.path = path
    self.descriptor = descriptor
    self.interruptedCommit = interruptedCommit
  }

  /// What a non-empty lock file holds.
  enum Content: Equatable {
    /// ``content``: a lock of ours.
    case plain
    /// ``content`` and the commit record of the writer with this token.
    case committing(String)
    /// Anything else: not a lock file of ours.
    case foreign

    init(_ bytes: ArraySlice<UInt8>) {
      guard bytes.starts(with: OutputLock.content) else { self = .foreign; return }
      let rest = bytes.dropFirst(OutputLock.content.count)
      guard !rest.isEmpty else { self = .plain; return }
      guard rest.starts(with: OutputLock.commitPrefix), rest.last == 0x0A else { self = .foreign; return }
      let token = String(decoding: rest.dropFirst(OutputLock.commitPrefix.count).dropLast(), as: UTF8.self)
      self = AtomicOutputDirectory.isToken(token) ? .committing(token) : .foreign
    }
  }

  /// Takes the lock without waiting.
  ///
  /// - Throws: ``ConversionError`` (`.output`) naming `outputPath` when another process holds the
  ///   lock, the lock file cannot be created, or a file at its path was not made by a convert.
  static func acquire(directory: String, name: String, outputPath: String) throws -> OutputLock {
    let path = (directory.isEmpty ? "" : directory + "/") + AtomicOutputDirectory.siblingName(of: name, suffix: ".lock")
    // A releasing holder unlinks the file before unlocking: retry when the locked file is no
    // longer the one at `path`.
    for _ in 0..<16 {
      var fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
      if fd < 0 && errno == EEXIST {
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if fd < 0 && errno == ENOENT { continue }
      }
      guard fd >= 0 else {
        throw ConversionError(
          .output, file: outputPath, reason: "cannot create the lock file \(path): \(System.message())")
      }
      guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
        let code = errno
        close(fd)
        if code == EWOULDBLOCK {
          throw ConversionError(
            .output, file: outputPath,
            reason: "another convert is writing this output (it holds \(path)); try again when it has finished")
        }
        throw ConversionError(.output, file: outputPath, reason: "cannot lock \(path): \(System.message(code))")
      }
      var held = stat()
      var current = stat()
      guard fstat(fd, &held) == 0, lstat(path, &current) == 0, held.st_dev == current.st_dev,
        held.st_ino == current.st_ino
      else {
        close(fd)
        continue
      }
      // Holding the lock, the content is complete: empty (just created, or its creator was
      // killed before writing it), ours (with the commit of a writer killed while committing),
      // or a file that is not a lock of ours.
      var buffer = [UInt8](repeating: 0, count: maximumSize + 1)
      let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
      let found = count > 0 && count <= maximumSize ? Content(buffer.prefix(count)) : .foreign
      if (held.st_mode & S_IFMT) == S_IFREG && count == 0 {
        let written = content.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == content.count else {
          let reason = System.message()
          close(fd)
          throw ConversionError(.output, file: outputPath, reason: "cannot write the lock file \(path): \(reason)")
        }
      } else if (held.st_mode & S_IFMT) != S_IFREG || found == .foreign {
        close(fd)
        throw ConversionError(
          .output, file: outputPath,
          reason: "\(path) exists and is not a convert lock file; remove it or choose another output path")
      }
      var interrupted: String?
      if count > 0, case .committing(let token) = found { interrupted = token }
      return OutputLock(path: path, descriptor: fd, interruptedCommit: interrupted)
    }
    throw ConversionError(.output, file: outputPath, reason: "cannot lock \(path): it keeps being replaced")
  }

  /// Records in the lock file that the writer with `token` is committing, synced before its
  /// renames begin. A failure to record leaves the lock file as it was (a kill during the
  /// commit then leaves the unmarked directories behind, as without a record).
  func recordCommit(token: String) {
    guard descriptor >= 0 else { return }
    let record = Self.commitPrefix + Array(token.utf8) + [0x0A]
    let written = record.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(Self.content.count)) }
    if written == record.count {
      _ = fsync(descriptor)
    } else if written > 0 {
      clearCommit()
    }
  }

  /// Removes a commit record, leaving the plain lock content.
  func clearCommit() {
    guard descriptor >= 0 else { return }
    _ = ftruncate(descriptor, off_t(Self.content.count))
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
