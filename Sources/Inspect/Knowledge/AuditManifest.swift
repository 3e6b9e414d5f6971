/// The audit manifest `speculators-manifest.json` that `convert` writes next to its output and
/// `verify --manifest` / `diff` read back (`docs/convert.md`, `schemas/speculators-manifest.schema.json`).
///
/// It records the tool, the options, where the source and verifier came from (with file
/// digests), every output tensor with its XXH3-128 and the source tensor it came from, every
/// dropped source tensor with the reason, and the SHA-256 of every output file. It has no
/// timestamps, so the same conversion always gives the same manifest bytes.
///
/// Tensor digests are XXH3-128 of the tensor's dense little-endian bytes in its stored dtype
/// (what ``TensorReader/forEachChunk(of:maxChunk:_:)`` yields), so they do not depend on the
/// container; file digests are SHA-256 of the whole file.
package struct AuditManifest: Sendable, Hashable {
  /// The manifest file name inside a converted checkpoint.
  package static let fileName = "speculators-manifest.json"
  /// The schema version this type reads and writes.
  package static let currentVersion = 1

  /// A file and its digest.
  package struct FileDigest: Sendable, Hashable {
    /// The file name relative to its checkpoint directory.
    package var name: String
    /// Size in bytes.
    package var size: Int
    /// SHA-256 of the whole file, 64 lowercase hex digits.
    package var sha256: String

    /// Creates an entry.
    package init(name: String, size: Int, sha256: String) {
      self.name = name
      self.size = size
      self.sha256 = sha256
    }
  }

  /// The tool that wrote the manifest.
  package struct Tool: Sendable, Hashable {
    /// Tool name (`speculators`).
    package var name: String
    /// Tool version.
    package var version: String

    /// Creates an entry; the default is this tool.
    package init(name: String = ToolInfo.name, version: String = ToolInfo.version) {
      self.name = name
      self.version = version
    }
  }

  /// The options the conversion ran with.
  package struct Options: Sendable, Hashable {
    /// The algorithm actually used (`eagle` or `eagle3`, after `auto` was resolved).
    package var algorithm: String
    /// The `--algorithm-kwargs` object as given (an empty object when none).
    package var algorithmKwargs: JSONValue
    /// The `--dtype` asked for (`float16`, …), or `nil` to keep the source dtype.
    package var dtype: String?
    /// The largest shard, in bytes of tensor data.
    package var maxShardSize: Int
    /// The `--validate-device` value, or `nil`.
    package var validateDevice: String?
    /// The output path as given.
    package var outputPath: String
    /// The `--allow-drop` patterns.
    package var allowDrop: [String]
    /// Whether `--drop-unknown` was given.
    package var dropUnknown: Bool

    /// Creates an entry.
    package init(
      algorithm: String, algorithmKwargs: JSONValue = .object([]), dtype: String? = nil,
      maxShardSize: Int, validateDevice: String? = nil, outputPath: String, allowDrop: [String] = [],
      dropUnknown: Bool = false
    ) {
      self.algorithm = algorithm
      self.algorithmKwargs = algorithmKwargs
      self.dtype = dtype
      self.maxShardSize = maxShardSize
      self.validateDevice = validateDevice
      self.outputPath = outputPath
      self.allowDrop = allowDrop
      self.dropUnknown = dropUnknown
    }
  }

  /// Where the source checkpoint came from.
  package struct Source: Sendable, Hashable {
    /// The argument as the user gave it.
    package var given: String
    /// The absolute local path that was read.
    package var resolvedPath: String
    /// The Hugging Face Hub id, when the source came from the Hub.
    package var hubID: String?
    /// The Hub revision (commit), when known.
    package var revision: String?
    /// The detected source format (for example `eagle3-safeailab`).
    package var format: String
    /// Every file of the source checkpoint (sorted by name on creation).
    package var files: [FileDigest]

    /// Creates an entry.
    package init(
      given: String, resolvedPath: String, hubID: String? = nil, revision: String? = nil, format: String,
      files: [FileDigest]
    ) {
      self.given = given
      self.resolvedPath = resolvedPath
      self.hubID = hubID
      self.revision = revision
      self.format = format
      self.files = files.sorted { $0.name < $1.name }
    }
  }

  /// Where the verifier came from.
  package struct Verifier: Sendable, Hashable {
    /// The argument as the user gave it (also written to `verifier.name_or_path`).
    package var given: String
    /// The absolute local path that was read.
    package var resolvedPath: String
    /// SHA-256 of the verifier's `config.json`.
    package var configSHA256: String
    /// The verifier weights file the embeddings were read from, when they were.
    package var embeddingsFile: String?
    /// The byte range of ``embeddingsFile`` read from a remote verifier by HTTP Range, with the
    /// SHA-256 of those bytes (nil when the file was read whole). An audit can re-check it
    /// against the whole file, whose LFS SHA-256 the Hub publishes.
    package var embeddingsFetched: FetchedRange?

    /// Creates an entry.
    package init(
      given: String, resolvedPath: String, configSHA256: String, embeddingsFile: String? = nil,
      embeddingsFetched: FetchedRange? = nil
    ) {
      self.given = given
      self.resolvedPath = resolvedPath
      self.configSHA256 = configSHA256
      self.embeddingsFile = embeddingsFile
      self.embeddingsFetched = embeddingsFetched
    }
  }

  /// Where an output tensor's values came from.
  package enum Origin: String, Sendable, Hashable, CaseIterable {
    /// A tensor of the draft checkpoint (possibly renamed or cast).
    case draft
    /// A tensor of the verifier's weights (eagle3 embeddings).
    case verifier
    /// Made by the converter for a forced flag (ones or zeros).
    case synthesized
  }

  /// The provenance of one output tensor.
  package struct TensorSource: Sendable, Hashable {
    /// Where the values came from.
    package var origin: Origin
    /// The tensor's name in the draft or verifier (`nil` when synthesised).
    package var name: String?
    /// Its dtype there (`nil` when synthesised).
    package var dtype: DType?
    /// XXH3-128 of its bytes there (`nil` when synthesised).
    package var xxh3: String?
    /// What a synthesised tensor is filled with (`ones`, `zeros`).
    package var fill: String?

    /// Creates an entry.
    package init(
      origin: Origin, name: String? = nil, dtype: DType? = nil, xxh3: String? = nil, fill: String? = nil
    ) {
      self.origin = origin
      self.name = name
      self.dtype = dtype
      self.xxh3 = xxh3
      self.fill = fill
    }
  }

  /// One output tensor.
  package struct Tensor: Sendable, Hashable {
    /// The Speculators name.
    package var name: String
    /// The stored dtype.
    package var dtype: DType
    /// The shape.
    package var shape: [Int]
    /// The output file holding it.
    package var file: String
    /// XXH3-128 of its dense little-endian bytes, 32 lowercase hex digits.
    package var xxh3: String
    /// Where it came from.
    package var source: TensorSource

    /// Creates an entry.
    package init(name: String, dtype: DType, shape: [Int], file: String, xxh3: String, source: TensorSource) {
      self.name = name
      self.dtype = dtype
      self.shape = shape
      self.file = file
      self.xxh3 = xxh3
      self.source = source
    }
  }

  /// A source tensor that is not in the output.
  package struct DroppedTensor: Sendable, Hashable {
    /// Its source name.
    package var name: String
    /// Why it was dropped.
    package var reason: String

    /// Creates an entry.
    package init(name: String, reason: String) {
      self.name = name
      self.reason = reason
    }
  }

  /// The manifest format version (``currentVersion``).
  package var manifestVersion: Int
  /// The tool that wrote it.
  package var tool: Tool
  /// The conversion options.
  package var options: Options
  /// The source.
  package var source: Source
  /// The verifier.
  package var verifier: Verifier
  /// Every output tensor, sorted by name.
  package var tensors: [Tensor]
  /// Every dropped source tensor, sorted by name.
  package var dropped: [DroppedTensor]
  /// Every output file except the manifest itself, sorted by name.
  package var files: [FileDigest]

  /// Creates a manifest; tensors, dropped tensors and files are sorted by name.
  package init(
    manifestVersion: Int = AuditManifest.currentVersion, tool: Tool = Tool(), options: Options,
    source: Source,
    verifier: Verifier, tensors: [Tensor], dropped: [DroppedTensor], files: [FileDigest]
  ) {
    self.manifestVersion = manifestVersion
    self.tool = tool
    self.options = options
    self.source = source
    self.verifier = verifier
    self.tensors = tensors.sorted { $0.name < $1.name }
    self.dropped = dropped.sorted { $0.name < $1.name }
    self.files = files.sorted { $0.name < $1.name }
  }

  /// The manifest as JSON (write it with `JSONWriter.pretty`, keys sorted).
  package func json() -> JSONValue {
    func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    var verifierValue: JSONValue = [
      "given": .string(verifier.given), "resolved_path": .string(verifier.resolvedPath),
      "config_sha256": .string(verifier.configSHA256), "embeddings_file": optional(verifier.embeddingsFile),
    ]
    if let fetched = verifier.embeddingsFetched, case .object(var members) = verifierValue {
      // Written only for a ranged read, so manifests of local conversions are unchanged.
      members.append((
        "embeddings_fetched",
        [
          "file": .string(fetched.file), "offset": .int(fetched.offset), "length": .int(fetched.length),
          "sha256": .string(fetched.sha256),
        ]))
      verifierValue = .object(members)
    }
    func digests(_ list: [FileDigest]) -> JSONValue {
      .array(
        list.map { ["name": .string($0.name), "size": .int(Int64($0.size)), "sha256": .string($0.sha256)] })
    }
    let tensorValues: [JSONValue] = tensors.map { tensor in
      var source: [(key: String, value: JSONValue)] = [("origin", .string(tensor.source.origin.rawValue))]
      if let name = tensor.source.name { source.append(("name", .string(name))) }
      if let dtype = tensor.source.dtype { source.append(("dtype", .string(dtype.rawValue))) }
      if let xxh3 = tensor.source.xxh3 { source.append(("xxh3_128", .string(xxh3))) }
      if let fill = tensor.source.fill { source.append(("fill", .string(fill))) }
      return [
        "name": .string(tensor.name), "dtype": .string(tensor.dtype.rawValue),
        "shape": .array(tensor.shape.map { .int(Int64($0)) }), "file": .string(tensor.file),
        "xxh3_128": .string(tensor.xxh3), "source": .object(source),
      ]
    }
    return [
      "manifest_version": .int(Int64(manifestVersion)),
      "tool": ["name": .string(tool.name), "version": .string(tool.version)],
      "options": [
        "algorithm": .string(options.algorithm), "algorithm_kwargs": options.algorithmKwargs,
        "dtype": optional(options.dtype), "max_shard_size": .int(Int64(options.maxShardSize)),
        "validate_device": optional(options.validateDevice), "output_path": .string(options.outputPath),
        "allow_drop": .array(options.allowDrop.map(JSONValue.string)),
        "drop_unknown": .bool(options.dropUnknown),
      ],
      "source": [
        "given": .string(source.given), "resolved_path": .string(source.resolvedPath),
        "hub_id": optional(source.hubID), "revision": optional(source.revision),
        "format": .string(source.format), "files": digests(source.files),
      ],
      "verifier": verifierValue,
      "tensors": .array(tensorValues),
      "dropped": .array(dropped.map { ["name": .string($0.name), "reason": .string($0.reason)] }),
      "files": digests(files),
    ]
  }

  /// The manifest file's exact text: pretty JSON, keys sorted, with a final newline.
  package func text() -> String {
    JSONWriter.pretty(json()) + "\n"
  }

  /// Whether a file name the manifest lists stays inside the checkpoint directory: relative,
  /// without `..` components or NUL bytes.
  package static func isInsideDirectory(_ name: String) -> Bool {
    !name.isEmpty && !name.hasPrefix("/") && !name.split(separator: "/").contains("..")
      && !name.contains("\0")
  }

  /// Reads a manifest from parsed JSON; `file` names it in errors.
  ///
  /// - Throws: ``CheckpointError`` (`.malformed`) naming the JSON path of the first field that
  ///   is missing or has the wrong type, or (`.unsupported`) for another manifest version.
  package init(json: JSONValue, file: String = AuditManifest.fileName) throws(CheckpointError) {
    let root = ManifestField(value: json, path: "", file: file)
    let version = try root.member("manifest_version").int()
    guard version == Self.currentVersion else {
      throw CheckpointError(
        .unsupported, file: file, reason: "manifest_version \(version) is not supported (expected 1)")
    }
    manifestVersion = version
    let toolField = try root.member("tool")
    tool = Tool(
      name: try toolField.member("name").string(), version: try toolField.member("version").string())
    let optionsField = try root.member("options")
    let kwargs = try optionsField.member("algorithm_kwargs")
    guard kwargs.value.objectMembers != nil else { throw kwargs.failure("must be an object") }
    options = Options(
      algorithm: try optionsField.member("algorithm").string(),
      algorithmKwargs: kwargs.value,
      dtype: try optionsField.member("dtype").optionalString(),
      maxShardSize: try optionsField.member("max_shard_size").int(),
      validateDevice: try optionsField.member("validate_device").optionalString(),
      outputPath: try optionsField.member("output_path").string(),
      allowDrop: try optionsField.optionalMember("allow_drop")?.array().map { field throws(CheckpointError) in
        try field.string()
      } ?? [],
      dropUnknown: try optionsField.optionalMember("drop_unknown")?.bool() ?? false)
    let sourceField = try root.member("source")
    source = Source(
      given: try sourceField.member("given").string(),
      resolvedPath: try sourceField.member("resolved_path").string(),
      hubID: try sourceField.member("hub_id").optionalString(),
      revision: try sourceField.member("revision").optionalString(),
      format: try sourceField.member("format").string(),
      files: try Self.fileDigests(sourceField.member("files")))
    let verifierField = try root.member("verifier")
    verifier = Verifier(
      given: try verifierField.member("given").string(),
      resolvedPath: try verifierField.member("resolved_path").string(),
      configSHA256: try verifierField.member("config_sha256").hex(digits: 64),
      embeddingsFile: try verifierField.member("embeddings_file").optionalString(),
      embeddingsFetched: try verifierField.optionalMember("embeddings_fetched").map {
        (field) throws(CheckpointError) in
        FetchedRange(
          file: try field.member("file").string(), offset: Int64(try field.member("offset").int()),
          length: Int64(try field.member("length").int()), sha256: try field.member("sha256").hex(digits: 64))
      })
    var tensorList: [Tensor] = []
    for field in try root.member("tensors").array() {
      let sourceInfo = try field.member("source")
      let originText = try sourceInfo.member("origin").string()
      guard let origin = Origin(rawValue: originText) else {
        throw try sourceInfo.member("origin").failure("unknown origin '\(originText)'")
      }
      let tensorSource = TensorSource(
        origin: origin,
        name: try sourceInfo.optionalMember("name")?.string(),
        dtype: try sourceInfo.optionalMember("dtype")?.dtype(),
        xxh3: try sourceInfo.optionalMember("xxh3_128")?.hex(digits: 32),
        fill: try sourceInfo.optionalMember("fill")?.string())
      tensorList.append(
        Tensor(
          name: try field.member("name").string(), dtype: try field.member("dtype").dtype(),
          shape: try field.member("shape").shape(),
          file: try field.member("file").relativePath(), xxh3: try field.member("xxh3_128").hex(digits: 32),
          source: tensorSource))
    }
    tensors = tensorList.sorted { $0.name < $1.name }
    dropped = try root.member("dropped").array().map { field throws(CheckpointError) in
      DroppedTensor(name: try field.member("name").string(), reason: try field.member("reason").string())
    }.sorted { $0.name < $1.name }
    files = try Self.fileDigests(root.member("files"), inside: true)
  }

  /// Reads and parses a manifest file.
  package init(contentsOf path: String) throws(CheckpointError) {
    try self.init(json: try Self.parse(contentsOf: path), file: path)
  }

  /// The strictly parsed JSON of the file at `path`.
  static func parse(contentsOf path: String) throws(CheckpointError) -> JSONValue {
    let mapped = try MappedFile(path: path)
    do {
      return try StrictJSONParser.parse(mapped.bytes)
    } catch {
      throw CheckpointError(
        .malformed, file: path, offset: UInt64(error.offset), reason: "invalid JSON: \(error.reason)")
    }
  }

  /// A manifest's digest sections alone: per-file size and SHA-256, per-tensor dtype, shape,
  /// file and XXH3-128 — what `verify --manifest` compares with a checkpoint.
  ///
  /// Read from a whole manifest, or from any document holding `files` and `tensors` in the same
  /// form (such as `hash --json` output, where a file's `size` and a tensor's `file` may be
  /// absent); the other sections are not read. `manifest_version`, when present, must be
  /// ``AuditManifest/currentVersion``.
  package struct Digests: Sendable, Hashable {
    /// A listed file.
    package struct File: Sendable, Hashable {
      /// Its name relative to the checkpoint directory (never outside it).
      package var name: String
      /// Its size in bytes, when recorded.
      package var size: Int?
      /// SHA-256 of the whole file.
      package var sha256: String
    }

    /// A listed tensor.
    package struct Tensor: Sendable, Hashable {
      package var name: String
      package var dtype: DType
      package var shape: [Int]
      /// The file holding it, when recorded (relative to the checkpoint directory).
      package var file: String?
      /// XXH3-128 of its dense little-endian bytes.
      package var xxh3: String
    }

    /// The listed files, in document order.
    package var files: [File]
    /// The listed tensors, in document order.
    package var tensors: [Tensor]

    /// Reads and parses the digest sections of the file at `path`.
    ///
    /// - Throws: ``CheckpointError`` (`.malformed`) naming the JSON path of the first entry that
    ///   is missing or wrong, or (`.unsupported`) for another manifest version.
    package init(contentsOf path: String) throws(CheckpointError) {
      let root = ManifestField(value: try AuditManifest.parse(contentsOf: path), path: "", file: path)
      if let version = try root.optionalMember("manifest_version") {
        let number = try version.int()
        guard number == AuditManifest.currentVersion else {
          throw CheckpointError(
            .unsupported, file: path, reason: "manifest_version \(number) is not supported (expected 1)")
        }
      }
      files = try root.member("files").array().map { entry throws(CheckpointError) in
        let size = try entry.optionalMember("size").flatMap { field throws(CheckpointError) -> Int? in
          guard !field.value.isNull else { return nil }
          let size = try field.int()
          guard size >= 0 else { throw field.failure("must be non-negative") }
          return size
        }
        return File(
          name: try entry.member("name").relativePath(), size: size,
          sha256: try entry.member("sha256").hex(digits: 64))
      }
      tensors = try root.member("tensors").array().map { entry throws(CheckpointError) in
        Tensor(
          name: try entry.member("name").string(), dtype: try entry.member("dtype").dtype(),
          shape: try entry.member("shape").shape(),
          file: try entry.optionalMember("file")?.optionalString(),
          xxh3: try entry.member("xxh3_128").hex(digits: 32))
      }
    }
  }

  /// The file digests at `field`; with `inside`, each name must stay inside the checkpoint
  /// directory (the output files a verify opens).
  private static func fileDigests(_ field: ManifestField, inside: Bool = false) throws(CheckpointError)
    -> [FileDigest]
  {
    try field.array().map { entry throws(CheckpointError) in
      let size = try entry.member("size").int()
      guard size >= 0 else { throw try entry.member("size").failure("must be non-negative") }
      let name = try entry.member("name")
      return FileDigest(
        name: inside ? try name.relativePath() : try name.string(), size: size,
        sha256: try entry.member("sha256").hex(digits: 64))
    }.sorted { $0.name < $1.name }
  }
}

/// A value at a JSON path of a manifest, with typed accessors that fail naming the path.
private struct ManifestField {
  let value: JSONValue
  let path: String
  let file: String

  func failure(_ reason: String) -> CheckpointError {
    CheckpointError(.malformed, file: file, reason: "\(path.isEmpty ? "manifest" : path): \(reason)")
  }

  func member(_ key: String) throws(CheckpointError) -> ManifestField {
    guard let found = try optionalMember(key) else { throw failure("missing '\(key)'") }
    return found
  }

  func optionalMember(_ key: String) throws(CheckpointError) -> ManifestField? {
    guard value.objectMembers != nil else { throw failure("must be an object") }
    return value[key].map {
      ManifestField(value: $0, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }
  }

  func string() throws(CheckpointError) -> String {
    guard let text = value.stringValue else { throw failure("must be a string, not \(value.typeName)") }
    return text
  }

  func optionalString() throws(CheckpointError) -> String? {
    value.isNull ? nil : try string()
  }

  func int() throws(CheckpointError) -> Int {
    guard case .int(let raw) = value, let number = Int(exactly: raw) else {
      throw failure("must be an integer, not \(value.typeName)")
    }
    return number
  }

  func bool() throws(CheckpointError) -> Bool {
    guard let flag = value.boolValue else { throw failure("must be a boolean, not \(value.typeName)") }
    return flag
  }

  func array() throws(CheckpointError) -> [ManifestField] {
    guard let elements = value.arrayValue else { throw failure("must be an array, not \(value.typeName)") }
    return elements.enumerated().map { ManifestField(value: $1, path: "\(path)[\($0)]", file: file) }
  }

  func dtype() throws(CheckpointError) -> DType {
    let text = try string()
    guard let parsed = DType(rawValue: text) else { throw failure("unknown dtype '\(text)'") }
    return parsed
  }

  /// A tensor shape: non-negative integers.
  func shape() throws(CheckpointError) -> [Int] {
    try array().map { dim throws(CheckpointError) in
      let value = try dim.int()
      guard value >= 0 else { throw dim.failure("must be a non-negative integer") }
      return value
    }
  }

  /// A file name relative to the checkpoint directory that stays inside it.
  func relativePath() throws(CheckpointError) -> String {
    let name = try string()
    guard AuditManifest.isInsideDirectory(name) else {
      throw failure("must be a relative path inside the checkpoint directory")
    }
    return name
  }

  func hex(digits: Int) throws(CheckpointError) -> String {
    let text = try string()
    guard text.utf8.count == digits,
      text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
    else {
      throw failure("must be \(digits) lowercase hex digits")
    }
    return text
  }
}
