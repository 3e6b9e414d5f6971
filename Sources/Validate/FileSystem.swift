import Platform

/// The few file-system queries `verify` needs (existence, kind, working directory), without
/// Foundation.
enum FileSystem {
  /// What is at a path.
  enum Kind: Equatable {
    case missing
    case file
    case directory
    case other
  }

  /// What is at `path` (following symlinks).
  static func kind(of path: String) -> Kind {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    default: return .other
    }
  }

  /// The size of the file at `path`, or -1 when it cannot be read.
  static func size(of path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return -1 }
    return Int(info.st_size)
  }

  /// The process's working directory.
  static func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// `path` resolved against `base` when relative.
  static func resolve(_ path: String, against base: String) -> String {
    path.hasPrefix("/") ? path : joinPath(base, path)
  }

  /// The names in a directory (not recursive), sorted; empty when it cannot be read.
  static func entries(of directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }
}
