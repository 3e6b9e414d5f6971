import Inspect

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An output directory written atomically: files go into a temporary sibling
/// (`.<name>.tmp-<pid>-<random>` in the same parent) that is renamed into place only when
/// everything succeeded.
///
/// - An existing non-empty output is refused unless `force` is set; then it is renamed aside,
///   the new directory renamed in, and the old one deleted.
/// - An output path that exists as a file (or anything but a directory) is refused.
/// - ``discard()`` removes the temporary directory; after a failure nothing is left at the
///   output path, and no temporary directory is left in the parent.
struct AtomicOutputDirectory {
  /// The output path as given.
  let finalPath: String
  /// The temporary directory the files are written to.
  let temporaryPath: String
  /// Whether the output path already exists (an empty directory, or anything with `force`).
  private let replacesExisting: Bool

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
    let replaces = try checkExisting(trimmed, force: force)
    let (parent, name) = split(trimmed)
    try makeDirectories(parent)
    var generator = SystemRandomNumberGenerator()
    let suffix = String(generator.next() as UInt64, radix: 16)
    let temporary = (parent == "" ? "" : parent + "/") + ".\(name).tmp-\(getpid())-\(suffix)"
    guard mkdir(temporary, 0o755) == 0 else {
      throw CheckpointError(
        .io, file: outputPath,
        reason: "cannot create a temporary directory next to it: \(String(cString: strerror(errno)))")
    }
    return AtomicOutputDirectory(finalPath: trimmed, temporaryPath: temporary, replacesExisting: replaces)
  }

  private init(finalPath: String, temporaryPath: String, replacesExisting: Bool) {
    self.finalPath = finalPath
    self.temporaryPath = temporaryPath
    self.replacesExisting = replacesExisting
  }

  /// The path of `name` inside the temporary directory.
  func temporaryFile(_ name: String) -> String { temporaryPath + "/" + name }

  /// Syncs the temporary directory and renames it into place (replacing the old output when
  /// allowed), then syncs the parent.
  func commit() throws(CheckpointError) {
    syncDirectory(temporaryPath)
    if replacesExisting {
      var generator = SystemRandomNumberGenerator()
      let (parent, name) = Self.split(finalPath)
      let aside =
        (parent == "" ? "" : parent + "/")
        + ".\(name).old-\(getpid())-\(String(generator.next() as UInt64, radix: 16))"
      guard rename(finalPath, aside) == 0 else {
        throw CheckpointError(
          .io, file: finalPath,
          reason: "cannot move the existing output aside: \(String(cString: strerror(errno)))")
      }
      guard rename(temporaryPath, finalPath) == 0 else {
        let reason = String(cString: strerror(errno))
        _ = rename(aside, finalPath)
        throw CheckpointError(
          .io, file: finalPath, reason: "cannot move the new output into place: \(reason)")
      }
      Self.removeTree(aside)
    } else {
      guard rename(temporaryPath, finalPath) == 0 else {
        throw CheckpointError(
          .io, file: finalPath,
          reason: "cannot move the new output into place: \(String(cString: strerror(errno)))")
      }
    }
    syncDirectory(Self.split(finalPath).parent.isEmpty ? "." : Self.split(finalPath).parent)
  }

  /// Removes the temporary directory and everything in it.
  func discard() {
    Self.removeTree(temporaryPath)
  }

  // MARK: helpers

  /// Whether an existing output will be replaced; throws when it may not be.
  private static func checkExisting(_ path: String, force: Bool) throws(CheckpointError) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return false }
      throw CheckpointError(
        .io, file: path, reason: "cannot inspect the output path: \(String(cString: strerror(errno)))")
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
        .io, file: path, reason: "cannot create the output's parent: \(String(cString: strerror(errno)))")
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
