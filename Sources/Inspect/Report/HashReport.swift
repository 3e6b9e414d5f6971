/// What `speculators hash` reports: a digest of every file of a checkpoint (SHA-256 unless
/// asked otherwise) and XXH3-128 of every tensor.
///
/// ``checksumText`` is accepted by `sha256sum -c` (or `xxhsum -c` for XXH3 file digests) run
/// from the checkpoint directory (tensor digests follow as `#` comment lines, which both skip);
/// ``json()`` follows `schemas/hash-report.schema.json`.
public struct HashReport: Sendable {
  /// Which digests a report holds.
  public struct Selection: Sendable, Hashable {
    /// The whole-file digest.
    public var fileAlgorithm: FileDigestAlgorithm
    /// Whether files are hashed.
    public var files: Bool
    /// Whether tensors are hashed.
    public var tensors: Bool

    /// A selection; the default is SHA-256 of every file and XXH3-128 of every tensor.
    public init(fileAlgorithm: FileDigestAlgorithm = .sha256, files: Bool = true, tensors: Bool = true) {
      self.fileAlgorithm = fileAlgorithm
      self.files = files
      self.tensors = tensors
    }
  }

  /// One file's digest.
  public struct FileDigest: Sendable, Hashable {
    /// The path relative to the checkpoint directory.
    public var name: String
    /// Size in bytes.
    public var size: Int
    /// The digest (of ``HashReport/fileAlgorithm``), lowercase hex.
    public var digest: String
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
  /// The algorithm of the file digests.
  public var fileAlgorithm: FileDigestAlgorithm
  /// Every file of the checkpoint, sorted by name (empty when files were not asked for).
  public var files: [FileDigest]
  /// Every tensor, sorted by name (empty when tensors were not asked for).
  public var tensors: [TensorDigest]

  /// Opens the checkpoint at `path` (headers only) and hashes what `selection` asks for.
  ///
  /// - Parameters:
  ///   - path: a checkpoint directory, weights file or sharded index.
  ///   - selection: which digests to compute.
  ///   - progress: receives `hashing` updates (bytes done of the checkpoint's bytes) as work
  ///     advances, from worker threads; each byte of the checkpoint counts once even when files and tensors are both
  ///     hashed.
  /// - Throws: ``CheckpointError`` when the checkpoint cannot be read.
  public static func compute(
    path: String, selection: Selection = Selection(),
    progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> HashReport {
    try compute(checkpoint: CheckpointReader.open(path), selection: selection, progress: progress)
  }

  /// Hashes the files and tensors of an opened checkpoint, in parallel (files across cores,
  /// tensors across cores within and across files).
  package static func compute(
    checkpoint: Checkpoint, reader: TensorReader = TensorReader(), selection: Selection = Selection(),
    progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> HashReport {
    let fileBytes = selection.files ? checkpoint.files.reduce(0) { $0 + CheckpointHasher.fileSize($1.path) } : 0
    let tensorBytes = selection.tensors ? checkpoint.totalTensorBytes : 0
    // Tensors lie inside the files: when both are hashed every byte is read twice, but the
    // progress counts each checkpoint byte once (the work done, scaled to the checkpoint's size).
    let work = fileBytes + tensorBytes
    let unique = selection.files ? fileBytes : tensorBytes
    let counter = progress.map { ProgressCounter(task: "hashing", total: unique, work: work, handler: $0) }
    var files: [FileDigest] = []
    if selection.files {
      let digests = try CheckpointHasher.fileDigests(
        checkpoint.files.map(\.path), algorithm: selection.fileAlgorithm, progress: counter)
      files = checkpoint.files.map { file in
        FileDigest(name: file.name, size: file.size, digest: digests[file.path] ?? "")
      }.sorted { $0.name < $1.name }
    }
    var tensors: [TensorDigest] = []
    if selection.tensors {
      let digests = try CheckpointHasher.tensorDigests(checkpoint, reader: reader, progress: counter)
      var names: [String: String] = [:]
      for file in checkpoint.files { names[file.path] = file.name }
      tensors = checkpoint.tensors.map { tensor in
        TensorDigest(
          name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
          file: names[tensor.file] ?? lastPathComponent(tensor.file), xxh3: digests[tensor.name] ?? "")
      }
    }
    return HashReport(
      location: checkpoint.location, directory: checkpoint.directory, fileAlgorithm: selection.fileAlgorithm,
      files: files, tensors: tensors)
  }

  /// Checksum lines for the files (`sha256sum` format, or `xxhsum -H2` format for XXH3), then
  /// one comment line per tensor (`# <xxh3-128>  <name>`). Names with a backslash or newline
  /// are escaped as `sha256sum` does (the line starts with `\`).
  package var checksumText: String {
    var out = ""
    for file in files {
      out += Self.checksumLine(digest: file.digest, name: file.name) + "\n"
    }
    if !tensors.isEmpty {
      out += Self.tensorHeading + "\n"
      for tensor in tensors {
        out += "# " + Self.checksumLine(digest: tensor.xxh3, name: tensor.name) + "\n"
      }
    }
    return out
  }

  /// The comment line that precedes the tensor lines of ``checksumText``.
  package static let tensorHeading = "# XXH3-128 of each tensor's dense little-endian bytes (xxhsum -H2 of those bytes):"

  /// The report as JSON (`schemas/hash-report.schema.json`).
  public func json() -> JSONValue {
    .object([
      ("tool", ["name": .string(ToolInfo.name), "version": .string(ToolInfo.version)]),
      ("path", .string(location)),
      ("directory", .string(directory)),
      ("file_digest", .string(fileAlgorithm.jsonKey)),
      (
        "files",
        .array(
          files.map {
            ["name": .string($0.name), "size": .int(Int64($0.size)), fileAlgorithm.jsonKey: .string($0.digest)]
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
  package static func checksumLine(digest: String, name: String) -> String {
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
