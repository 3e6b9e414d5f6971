import Platform

/// The file-system queries and path spelling every command shares (what a path is, directory
/// listings, the working directory, joining and splitting paths), over POSIX calls without
/// Foundation. The system calls themselves live in `Platform`.
package enum FileSystem {
  /// What a path is, following symbolic links (Hugging Face cache snapshots are symlinks).
  package enum Entry: Equatable, Sendable {
    case missing
    case directory
    case regularFile(size: Int)
    case other
  }

  /// What `path` is.
  package static func entry(at path: String) -> Entry {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .directory
    case S_IFREG: return .regularFile(size: Int(info.st_size))
    default: return .other
    }
  }

  /// Whether anything is at `path` itself, not following a final symbolic link: a link counts
  /// even when it leads nowhere (``entry(at:)`` then says `missing`).
  package static func existsWithoutFollowingLinks(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  /// Whether `path` is a regular file (following symbolic links).
  package static func isRegularFile(_ path: String) -> Bool {
    if case .regularFile = entry(at: path) { return true }
    return false
  }

  /// Whether `path` is a directory (following symbolic links).
  package static func isDirectory(_ path: String) -> Bool {
    entry(at: path) == .directory
  }

  /// The size of the regular file at `path`, or -1 when it is not one.
  package static func size(of path: String) -> Int {
    if case .regularFile(let size) = entry(at: path) { return size }
    return -1
  }

  /// The process's working directory (`.` when it cannot be read).
  package static func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// `path` made absolute against the current directory, with `.`, `..` and repeated slashes
  /// removed lexically (symbolic links are kept, as the user named them).
  package static func absolute(_ path: String) -> String {
    let base = path.hasPrefix("/") ? "" : currentDirectory()
    var parts: [Substring] = []
    for part in (base + "/" + path).split(separator: "/") where part != "." {
      if part == ".." {
        if !parts.isEmpty { parts.removeLast() }
      } else {
        parts.append(part)
      }
    }
    return "/" + parts.joined(separator: "/")
  }

  /// `path` resolved against `base` when relative.
  package static func resolve(_ path: String, against base: String) -> String {
    path.hasPrefix("/") ? path : join(base, path)
  }

  /// The names in directory `path`, without `.` and `..`, sorted byte-wise.
  package static func contents(of path: String) throws(CheckpointError) -> [String] {
    guard let handle = opendir(path) else {
      throw CheckpointError(.io, file: path, reason: "cannot list directory: \(System.message())")
    }
    defer { closedir(handle) }
    var names: [String] = []
    while let record = readdir(handle) {
      let name = withUnsafeBytes(of: record.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  /// ``contents(of:)``, empty when the directory cannot be read.
  package static func entries(of directory: String) -> [String] {
    (try? contents(of: directory)) ?? []
  }

  /// `path` without trailing slashes (but `/` stays `/`).
  package static func trimmingTrailingSlashes(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return String(trimmed)
  }

  /// The directory part of `path` (`.` when there is none).
  package static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }

  /// The last component of `path`.
  package static func lastComponent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }

  /// `name` inside `directory` with one slash, spelled the way a user would type it: inside
  /// `.` (or an empty directory) it is just `name`. A leading slash of `name` does not escape
  /// `directory` (callers pass untrusted names only after checking them).
  package static func join(_ directory: String, _ name: String) -> String {
    if directory.isEmpty || directory == "." { return name }
    if directory.hasSuffix("/") { return directory + name }
    return directory + "/" + name
  }
}
