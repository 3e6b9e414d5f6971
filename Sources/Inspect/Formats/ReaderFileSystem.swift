import Platform

/// The few file-system queries checkpoint readers need, over POSIX calls.
enum ReaderFileSystem {
  /// What a path is, following symbolic links (Hugging Face cache snapshots are symlinks).
  enum Entry: Equatable {
    case missing
    case directory
    case regularFile(size: Int)
    case other
  }

  /// What `path` is.
  static func entry(at path: String) -> Entry {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .directory
    case S_IFREG: return .regularFile(size: Int(info.st_size))
    default: return .other
    }
  }

  /// `path` made absolute against the current directory, with `.`, `..` and repeated slashes
  /// removed lexically (symbolic links are kept, as the user named them).
  static func absolute(_ path: String) -> String {
    var base = ""
    if !path.hasPrefix("/") {
      var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      if getcwd(&buffer, buffer.count) != nil {
        base = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      }
    }
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

  /// The names in directory `path`, without `.` and `..`, sorted byte-wise.
  static func contents(of path: String) throws(CheckpointError) -> [String] {
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

  /// `path` without trailing slashes (but `/` stays `/`).
  static func trimmingTrailingSlashes(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return String(trimmed)
  }

  /// The directory part of `path` (`.` when there is none).
  static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }

  /// The last component of `path`.
  static func lastComponent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }

  /// `name` inside `directory`, spelled the way a user would type it.
  static func join(_ directory: String, _ name: String) -> String {
    if directory == "." { return name }
    if directory.hasSuffix("/") { return directory + name }
    return directory + "/" + name
  }
}
