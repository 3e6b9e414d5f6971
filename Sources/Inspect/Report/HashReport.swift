/// What `speculators hash` reports: SHA-256 of every file of a checkpoint and XXH3-128 of every
/// tensor.
///
/// ``sha256sumText`` is accepted by `sha256sum -c` run from the checkpoint directory (tensor
/// digests follow as `#` comment lines, which `sha256sum` skips); ``json()`` follows
/// `schemas/hash-report.schema.json`.
public struct HashReport: Sendable {
  /// One file's digest.
  public struct FileDigest: Sendable, Hashable {
    /// The path relative to the checkpoint directory.
    public var name: String
    /// Size in bytes.
    public var size: Int
    /// SHA-256, 64 lowercase hex digits.
    public var sha256: String
  }

  /// One tensor's digest.
  public struct TensorDigest: Sendable, Hashable {
    /// The tensor's name.
    public var name: String
    /// Its dtype.
    public var dtype: DType
    /// Its shape.
    public var shape: [Int]
    /// The file holding it, relative to the checkpoint directory.
    public var file: String
    /// XXH3-128 of its dense little-endian bytes, 32 lowercase hex digits (canonical order).
    public var xxh3: String
  }

  /// The path as given.
  public var location: String
  /// The checkpoint directory (file names are relative to it).
  public var directory: String
  /// Every file of the checkpoint, sorted by name.
  public var files: [FileDigest]
  /// Every tensor, sorted by name.
  public var tensors: [TensorDigest]

  /// Opens the checkpoint at `path` (headers only) and hashes its files and tensors.
  ///
  /// - Parameters:
  ///   - path: a checkpoint directory, weights file or sharded index.
  ///   - progress: called with (bytes hashed, bytes to hash) as work advances, from worker
  ///     threads.
  /// - Throws: ``CheckpointError`` when the checkpoint cannot be read.
  public static func compute(
    path: String, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
  ) throws(CheckpointError) -> HashReport {
    try compute(checkpoint: CheckpointReader.open(path), progress: progress)
  }

  /// Hashes the files and tensors of an opened checkpoint, in parallel.
  public static func compute(
    checkpoint: Checkpoint, reader: TensorReader = TensorReader(),
    progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
  ) throws(CheckpointError) -> HashReport {
    let total =
      checkpoint.files.reduce(0) { $0 + CheckpointHasher.fileSize($1.path) } + checkpoint.totalTensorBytes
    let counter = progress.map { ByteProgress(total: total, handler: $0) }
    let fileDigests = try CheckpointHasher.fileDigests(checkpoint.files.map(\.path), progress: counter)
    let tensorDigests = try CheckpointHasher.tensorDigests(checkpoint, reader: reader, progress: counter)
    var names: [String: String] = [:]
    for file in checkpoint.files { names[file.path] = file.name }
    let files = checkpoint.files.map { file in
      FileDigest(name: file.name, size: file.size, sha256: fileDigests[file.path] ?? "")
    }.sorted { $0.name < $1.name }
    let tensors = checkpoint.tensors.map { tensor in
      TensorDigest(
        name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
        file: names[tensor.file] ?? lastPathComponent(tensor.file), xxh3: tensorDigests[tensor.name] ?? "")
    }
    return HashReport(
      location: checkpoint.location, directory: checkpoint.directory, files: files, tensors: tensors)
  }

  /// `sha256sum`-format lines for the files, then one comment line per tensor
  /// (`# <xxh3-128>  <name>`). Names with a backslash or newline are escaped as `sha256sum`
  /// does (the line starts with `\`).
  public var sha256sumText: String {
    var out = ""
    for file in files {
      out += Self.checksumLine(digest: file.sha256, name: file.name) + "\n"
    }
    if !tensors.isEmpty {
      out += "# XXH3-128 of each tensor's dense little-endian bytes (xxhsum -H2 of those bytes):\n"
      for tensor in tensors {
        out += "# " + Self.checksumLine(digest: tensor.xxh3, name: tensor.name) + "\n"
      }
    }
    return out
  }

  /// The report as JSON (`schemas/hash-report.schema.json`).
  public func json() -> JSONValue {
    .object([
      ("tool", ["name": .string(ToolInfo.name), "version": .string(ToolInfo.version)]),
      ("path", .string(location)),
      ("directory", .string(directory)),
      (
        "files",
        .array(
          files.map {
            ["name": .string($0.name), "size": .int(Int64($0.size)), "sha256": .string($0.sha256)]
          })
      ),
      (
        "tensors",
        .array(
          tensors.map {
            [
              "name": .string($0.name), "dtype": .string($0.dtype.rawValue),
              "shape": .array($0.shape.map { .int(Int64($0)) }), "file": .string($0.file),
              "xxh3_128": .string($0.xxh3),
            ]
          })
      ),
    ])
  }

  /// One `sha256sum` line: `<digest>  <name>`, or `\<digest>  <escaped name>` when the name
  /// holds a backslash, a newline or a carriage return.
  public static func checksumLine(digest: String, name: String) -> String {
    guard name.unicodeScalars.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\r" }) else {
      return digest + "  " + name
    }
    var escaped = ""
    for character in name.unicodeScalars {
      switch character {
      case "\\": escaped += "\\\\"
      case "\n": escaped += "\\n"
      case "\r": escaped += "\\r"
      default: escaped.unicodeScalars.append(character)
      }
    }
    return "\\" + digest + "  " + escaped
  }
}

/// The last `/`-separated component of `path`.
func lastPathComponent(_ path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return path }
  return String(path[path.index(after: slash)...])
}
