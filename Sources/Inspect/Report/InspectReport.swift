/// What `speculators inspect` reports about a checkpoint: its files, a config summary, every
/// tensor, totals and per-dtype totals. Built from headers only (``Inspector/inspect(path:)``).
///
/// ``json()`` is the `--json` document (schema: `schemas/inspect-report.schema.json`);
/// ``text(width:)`` is the human rendering.
public struct InspectReport: Sendable {
  /// One file of the checkpoint.
  public struct File: Sendable, Hashable {
    /// The path relative to the checkpoint directory.
    public var name: String
    /// Size in bytes.
    public var size: Int
    /// What the file is.
    public var kind: CheckpointFileKind

    /// Creates a file entry.
    package init(name: String, size: Int, kind: CheckpointFileKind) {
      self.name = name
      self.size = size
      self.kind = kind
    }
  }

  /// The `config.json` fields a reader of a draft or verifier checks first. Each is `nil` when
  /// the config does not say. For Speculators configs, fields missing at the top level are
  /// taken from `transformer_layer_config`; for multimodal configs, from `text_config`.
  public struct ConfigSummary: Sendable, Hashable {
    /// `model_type`.
    public var modelType: String?
    /// `architectures`.
    public var architectures: [String]?
    /// `hidden_size`.
    public var hiddenSize: Int?
    /// `num_hidden_layers`.
    public var numHiddenLayers: Int?
    /// `num_attention_heads`.
    public var numAttentionHeads: Int?
    /// `num_key_value_heads` as written; `nil` when absent (no default from the head count).
    public var numKeyValueHeads: Int?
    /// `vocab_size`.
    public var vocabSize: Int?
    /// `draft_vocab_size` (or `truncated_vocab_size`).
    public var draftVocabSize: Int?
    /// `torch_dtype` or `dtype`, as written (for example `bfloat16`).
    public var dtype: String?
    /// `speculators_model_type`, present only in Speculators configs.
    public var speculatorsModelType: String?

    /// Summarises a parsed `config.json`.
    package init(config: JSONValue) {
      let top = ModelConfig(config)
      let layer = top.layer
      func int(_ key: String) -> Int? { top.int(key) ?? layer?.int(key) }
      modelType = top.modelType ?? layer?.modelType
      architectures = top.architectures
      hiddenSize = top.hiddenSize ?? layer?.hiddenSize
      numHiddenLayers = int("num_hidden_layers")
      numAttentionHeads = int("num_attention_heads")
      numKeyValueHeads = int("num_key_value_heads")
      vocabSize = int("vocab_size")
      draftVocabSize = top.draftVocabSize ?? layer?.draftVocabSize
      dtype = top.string("torch_dtype") ?? top.string("dtype") ?? layer?.string("torch_dtype")
        ?? layer?.string("dtype")
      speculatorsModelType = top.speculatorsModelType
    }

    /// The summary as `(config key, value)` pairs, in display order, absent fields included
    /// as `null`.
    package var fields: [(key: String, value: JSONValue)] {
      func number(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }
      func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
      return [
        ("model_type", text(modelType)),
        ("architectures", architectures.map { .array($0.map { .string($0) }) } ?? .null),
        ("hidden_size", number(hiddenSize)),
        ("num_hidden_layers", number(numHiddenLayers)),
        ("num_attention_heads", number(numAttentionHeads)),
        ("num_key_value_heads", number(numKeyValueHeads)),
        ("vocab_size", number(vocabSize)),
        ("draft_vocab_size", number(draftVocabSize)),
        ("dtype", text(dtype)),
        ("speculators_model_type", text(speculatorsModelType)),
      ]
    }
  }

  /// One tensor.
  public struct Tensor: Sendable, Hashable {
    /// The tensor's name.
    public var name: String
    /// The element type.
    public var dtype: DType
    /// The shape, outermost first.
    public var shape: [Int]
    /// The element count.
    public var parameters: Int
    /// The size of the dense bytes.
    public var bytes: Int
    /// The weights file holding it, relative to the checkpoint directory.
    public var file: String
  }

  /// Sums over a set of tensors.
  public struct Totals: Sendable, Hashable {
    /// How many tensors.
    public var tensors: Int
    /// Their total element count.
    public var parameters: Int
    /// Their total size in bytes.
    public var bytes: Int

    /// Creates totals.
    package init(tensors: Int, parameters: Int, bytes: Int) {
      self.tensors = tensors
      self.parameters = parameters
      self.bytes = bytes
    }

    mutating func add(parameters: Int, bytes: Int) {
      tensors += 1
      self.parameters += parameters
      self.bytes += bytes
    }
  }

  /// Sums over the tensors of one dtype.
  public struct DTypeTotals: Sendable, Hashable {
    /// The element type.
    public var dtype: DType
    /// The sums over tensors of that type.
    public var totals: Totals
  }

  /// The path as the user gave it.
  public var location: String
  /// The directory holding the checkpoint.
  public var directory: String
  /// Every file of the checkpoint, sorted by name.
  public var files: [File]
  /// The config summary, or `nil` when there is no `config.json`.
  public var config: ConfigSummary?
  /// safetensors `__metadata__` per weights file name.
  public var metadata: [String: [String: String]]
  /// Every tensor, sorted by name.
  public var tensors: [Tensor]
  /// Sums over all tensors.
  public var totals: Totals
  /// Sums per dtype, sorted by dtype name.
  public var dtypes: [DTypeTotals]
  /// The source format and producer detected from headers and config, with evidence and
  /// confidence.
  public var detection: Detection

  /// Builds the report of an opened checkpoint, running format detection on it.
  public init(checkpoint: Checkpoint) {
    location = checkpoint.location
    directory = checkpoint.directory
    files = checkpoint.files.map { File(name: $0.name, size: $0.size, kind: $0.kind) }
    config = checkpoint.config.map(ConfigSummary.init(config:))
    metadata = checkpoint.metadata
    let names = Dictionary(checkpoint.files.map { ($0.path, $0.name) }, uniquingKeysWith: { first, _ in first })
    var lastPath = ""
    var lastName = ""
    var tensors: [Tensor] = []
    tensors.reserveCapacity(checkpoint.tensors.count)
    // Read in place through the buffer (no copy of each TensorInfo).
    checkpoint.tensors.withUnsafeBufferPointer { infos in
      for index in infos.indices {
        // Neighbouring tensors mostly share a file: skip the lookup then.
        if infos[index].file != lastPath {
          lastPath = infos[index].file
          lastName = names[lastPath] ?? lastPath
        }
        let parameters = infos[index].elementCount
        let bytes = parameters * infos[index].dtype.bitsPerElement / 8
        tensors.append(
          Tensor(
            name: infos[index].name, dtype: infos[index].dtype, shape: infos[index].shape,
            parameters: parameters, bytes: bytes, file: lastName))
      }
    }
    self.tensors = tensors
    var overall = Totals(tensors: 0, parameters: 0, bytes: 0)
    // A short list rather than a dictionary: a checkpoint has few dtypes and many tensors.
    var byDType: [DTypeTotals] = []
    for index in tensors.indices {
      let (dtype, parameters, bytes) = (tensors[index].dtype, tensors[index].parameters, tensors[index].bytes)
      overall.add(parameters: parameters, bytes: bytes)
      if let slot = byDType.firstIndex(where: { $0.dtype == dtype }) {
        byDType[slot].totals.add(parameters: parameters, bytes: bytes)
      } else {
        let first = Totals(tensors: 1, parameters: parameters, bytes: bytes)
        byDType.append(DTypeTotals(dtype: dtype, totals: first))
      }
    }
    totals = overall
    dtypes = byDType.sorted { $0.dtype.rawValue < $1.dtype.rawValue }
    detection = FormatDetector.detect(checkpoint)
  }

  /// The `--json` document (schemas/inspect-report.schema.json) as a value: what
  /// ``writeJSON(to:)`` writes, read back by the strict parser, so the two cannot differ.
  public func json() -> JSONValue {
    let bytes = JSONWriter.prettyBytes { writeJSON(to: &$0) }
    // The writer's output is strict JSON (the tests hold it to that); `null` is never returned.
    return (try? StrictJSONParser.parse(bytes)) ?? .null
  }

  /// Writes the `--json` document (schemas/inspect-report.schema.json) into `writer` member by
  /// member: a checkpoint's 100,000 tensor entries go out without a tree of them.
  package func writeJSON(to writer: inout JSONWriter) {
    func totals(_ totals: Totals) {
      writer.member("tensors", totals.tensors)
      writer.member("parameters", totals.parameters)
      writer.member("bytes", totals.bytes)
    }
    writer.beginObject()
    writer.member("location", location)
    writer.member("directory", directory)
    writer.key(literal: "files")
    writer.beginArray()
    for file in files {
      writer.beginObject()
      writer.member("name", file.name)
      writer.member("size", file.size)
      writer.member("kind", file.kind.rawValue)
      writer.endObject()
    }
    writer.endArray()
    writer.key(literal: "config")
    writer.write(config.map { .object($0.fields) } ?? .null, sortKeys: false)
    writer.key(literal: "detection")
    writer.write(detection.json(), sortKeys: false)
    writer.key(literal: "metadata")
    writer.beginObject()
    for file in metadata.keys.sorted() {
      let map = metadata[file] ?? [:]
      writer.key(file)
      writer.beginObject()
      for key in map.keys.sorted() {
        writer.key(key)
        writer.string(map[key] ?? "")
      }
      writer.endObject()
    }
    writer.endObject()
    writer.key(literal: "tensors")
    writer.beginArray()
    tensors.withUnsafeBufferPointer { tensors in
      for tensor in tensors {
        writer.beginObject()
        writer.member("name", tensor.name)
        writer.member("dtype", tensor.dtype.rawValue)
        writer.key(literal: "shape")
        writer.beginArray()
        for dimension in tensor.shape { writer.integer(dimension) }
        writer.endArray()
        writer.member("parameters", tensor.parameters)
        writer.member("bytes", tensor.bytes)
        writer.member("file", tensor.file)
        writer.endObject()
      }
    }
    writer.endArray()
    writer.key(literal: "totals")
    writer.beginObject()
    totals(self.totals)
    writer.endObject()
    writer.key(literal: "dtypes")
    writer.beginArray()
    for entry in dtypes {
      writer.beginObject()
      writer.member("dtype", entry.dtype.rawValue)
      totals(entry.totals)
      writer.endObject()
    }
    writer.endArray()
    writer.endObject()
  }
}
