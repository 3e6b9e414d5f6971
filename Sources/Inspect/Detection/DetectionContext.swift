/// The detector's view of a checkpoint: tensors by name (optionally with a common prefix
/// stripped), the parsed config, and the weights files. Reads headers only, never tensor data.
struct DetectionContext: Sendable {
  /// Prefixes that wrap a whole draft state dict and are stripped before matching.
  static let strippablePrefixes = UnwrappedCheckpoint.wrapperPrefixes

  let checkpoint: Checkpoint
  let config: ModelConfig?
  /// The prefix stripped from the names, if any.
  let prefix: String?
  /// Tensor names (after stripping), sorted, each once, with where their tensors are.
  ///
  /// Tensors are read in place from the checkpoint through ``TensorNameTable``: no per-name
  /// dictionary, `String` or copy of the tensor list is made, which is what detection time
  /// on 100,000-tensor checkpoints went to.
  let names: TensorNameTable

  init(_ checkpoint: Checkpoint) {
    // The checkpoint's tensors are sorted by name; the table keeps the first of equal names.
    self.init(checkpoint: checkpoint, prefix: nil, names: TensorNameTable(sortedTensors: checkpoint.tensors))
  }

  private init(checkpoint: Checkpoint, prefix: String?, names: TensorNameTable) {
    self.checkpoint = checkpoint
    if let json = checkpoint.config, json.objectMembers != nil {
      config = ModelConfig(json)
    } else {
      config = nil
    }
    self.prefix = prefix
    self.names = names
  }

  /// The same checkpoint with a common wrapper prefix removed, when every tensor name except
  /// `lm_head.*` carries one of ``strippablePrefixes`` (NeMo keeps `lm_head.weight` outside
  /// `model.`) and stripping creates no duplicate names; `nil` otherwise.
  func strippingPrefix() -> DetectionContext? {
    guard prefix == nil, !names.isEmpty else { return nil }
    let head = Array("lm_head.".utf8)
    for candidate in Self.strippablePrefixes {
      // Byte-wise prefix tests, as before: the prefixes are ASCII.
      let prefixBytes = Array(candidate.utf8)
      guard !names.contains(where: { !Self.starts($0, with: prefixBytes) && !Self.starts($0, with: head) }),
        names.contains(where: { Self.starts($0, with: prefixBytes) }),
        let stripped = names.strippingPrefix(prefixBytes)
      else { continue }
      return DetectionContext(checkpoint: checkpoint, prefix: candidate, names: stripped)
    }
    return nil
  }

  /// Whether `name`'s bytes begin with `prefix`'s.
  private static func starts(_ name: UnsafeBufferPointer<UInt8>, with prefix: [UInt8]) -> Bool {
    guard name.count >= prefix.count else { return false }
    for offset in 0..<prefix.count where name[offset] != prefix[offset] { return false }
    return true
  }

  /// The tensors whose names start with `scope`, with `scope` removed (for example the
  /// `eagle_module.` part of a ModelOpt training checkpoint).
  func scoped(to scope: String) -> DetectionContext {
    let pattern = TensorNamePattern(scope)
    var inner: [String] = []
    var positions: [Int] = []
    names.forEachName { index, bytes in
      guard pattern.isPrefix(of: bytes) else { return }
      let name = names[index]
      guard name.count > scope.count else { return }
      inner.append(String(name.dropFirst(scope.count)))
      positions.append(names.position(at: index))
    }
    return DetectionContext(
      checkpoint: checkpoint, prefix: scope, names: TensorNameTable(names: inner, positions: positions))
  }

  // MARK: Names and shapes

  /// The tensor named `name` (after stripping), if present.
  func tensor(_ name: String) -> TensorInfo? {
    names.index(of: name).map { checkpoint.tensors[names.position(at: $0)] }
  }

  /// The dtype of every tensor, in name order.
  var dtypes: [DType] {
    let tensors = checkpoint.tensors
    return (0..<names.count).map { tensors[names.position(at: $0)].dtype }
  }

  func has(_ name: String) -> Bool { names.index(of: name) != nil }

  func shape(_ name: String) -> [Int]? {
    names.index(of: name).map { checkpoint.tensors[names.position(at: $0)].shape }
  }

  /// `shape[0]` (out features of a Linear weight, length of a vector).
  func rows(_ name: String) -> Int? {
    guard let shape = shape(name), !shape.isEmpty else { return nil }
    return shape[0]
  }

  /// `shape[1]` of a rank-2 tensor (in features of a Linear weight).
  func columns(_ name: String) -> Int? {
    guard let shape = shape(name), shape.count == 2 else { return nil }
    return shape[1]
  }

  func anyName(hasPrefix start: String) -> Bool {
    let pattern = TensorNamePattern(start)
    return names.contains(where: pattern.isPrefix)
  }

  func names(hasPrefix start: String) -> [String] {
    let pattern = TensorNamePattern(start)
    return names.names(where: pattern.isPrefix)
  }

  /// The first name (in order) ending in `end`.
  func firstName(hasSuffix end: String) -> String? {
    let pattern = TensorNamePattern(end)
    return names.firstIndex(where: pattern.isSuffix).map { names[$0] }
  }

  /// `name [d0, d1]`, or just the name when absent.
  func described(_ name: String) -> String {
    guard let shape = shape(name) else { return name }
    return "\(name) \(Self.shapeText(shape))"
  }

  /// `name [d0] DTYPE`.
  func describedWithDType(_ name: String) -> String {
    guard let info = tensor(name) else { return name }
    return "\(name) \(Self.shapeText(info.shape)) \(info.dtype.rawValue)"
  }

  static func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }

  /// Distinct indices `N` of `<component>.N.` path segments (for example `layers`), over all
  /// names or only those starting with `start`.
  func layerIndices(component: String = "layers", under start: String = "") -> [Int] {
    layerIndices(components: [component], under: start)[0]
  }

  /// ``layerIndices(component:under:)`` for each of `components`, in one pass over the names.
  func layerIndices(components: [String], under start: String = "") -> [[Int]] {
    // Scans UTF-8 bytes segment by segment: splitting every name into substrings dominated
    // detection time on checkpoints with 100,000 tensors.
    var indices = Array(repeating: Set<Int>(), count: components.count)
    var lastInserted = [Int?](repeating: nil, count: components.count)
    let markers = components.map { Array($0.utf8) }
    let skip = start.utf8.count
    let startPattern = TensorNamePattern(start)
    // Sorted neighbours share most of their segments, which the name before has counted
    // already: each name is scanned from the last dot it shares with the one before.
    var previousName: UnsafeBufferPointer<UInt8>?
    names.forEachName { _, text in
      guard startPattern.isPrefix(of: text) else {
        previousName = nil
        return
      }
      defer { previousName = text }
      var segmentStart = skip
      var previousMarker: Int?
      if let previousName, let dot = Self.lastSharedDot(text, previousName, from: skip) {
        var start = dot
        while start > skip, text[start - 1] != UInt8(ascii: ".") { start -= 1 }
        let segment = UnsafeBufferPointer(rebasing: text[start..<dot])
        previousMarker = markers.firstIndex { Self.equal(segment, $0) }
        segmentStart = dot + 1
      }
      var position = segmentStart
      while position <= text.count {
        if position == text.count || text[position] == UInt8(ascii: ".") {
          let segment = UnsafeBufferPointer(rebasing: text[segmentStart..<position])
          // Neighbouring names mostly repeat an index: skip the set for a repeat.
          if let marker = previousMarker, let index = TensorNamePattern.integer(segment), index >= 0,
            index != lastInserted[marker]
          {
            indices[marker].insert(index)
            lastInserted[marker] = index
          }
          previousMarker = position < text.count ? markers.firstIndex { Self.equal(segment, $0) } : nil
          segmentStart = position + 1
        }
        position += 1
      }
    }
    return indices.map { $0.sorted() }
  }

  /// The position of the last `.` at or after `start` in the bytes that `name` and `other`
  /// begin with alike.
  private static func lastSharedDot(
    _ name: UnsafeBufferPointer<UInt8>, _ other: UnsafeBufferPointer<UInt8>, from start: Int
  ) -> Int? {
    let common = min(name.count, other.count)
    var shared = 0
    if let left = name.baseAddress, let right = other.baseAddress {
      // Eight bytes at a time, then the first differing byte of the word that differs.
      while common - shared >= 8 {
        let difference = UInt64(littleEndian: UnsafeRawPointer(left + shared).loadUnaligned(as: UInt64.self))
          ^ UInt64(littleEndian: UnsafeRawPointer(right + shared).loadUnaligned(as: UInt64.self))
        if difference != 0 {
          shared += difference.trailingZeroBitCount / 8
          break
        }
        shared += 8
      }
    }
    while shared < common, name[shared] == other[shared] { shared += 1 }
    var dot = shared - 1
    while dot >= start {
      if name[dot] == UInt8(ascii: ".") { return dot }
      dot -= 1
    }
    return nil
  }

  private static func equal(_ segment: UnsafeBufferPointer<UInt8>, _ marker: [UInt8]) -> Bool {
    guard segment.count == marker.count else { return false }
    for offset in 0..<marker.count where segment[offset] != marker[offset] { return false }
    return true
  }

  // MARK: Files and config

  /// Whether any weights file is a torch zip (`pytorch_model.bin` and friends).
  var hasTorchZipWeights: Bool { checkpoint.weightFiles.contains { $0.kind == .torchZip } }
  /// Whether any weights file is safetensors.
  var hasSafetensorsWeights: Bool { checkpoint.weightFiles.contains { $0.kind == .safetensors } }

  /// File names (last path component) of every file in the checkpoint.
  var fileBaseNames: [String] {
    checkpoint.files.map { file in
      file.name.split(separator: "/").last.map(String.init) ?? file.name
    }
  }

  /// The config view that holds the draft geometry: `transformer_layer_config` for
  /// Speculators, the nested `model` for vLLM legacy EAGLE, else the config itself.
  var geometryConfig: ModelConfig? {
    guard let config else { return nil }
    if let layer = config.layer { return layer }
    if config.modelType == "eagle", let nested = config.json["model"], nested.objectMembers != nil {
      return ModelConfig(nested)
    }
    return config
  }

  /// Keys of the config's `eagle_config` object (SpecForge / ModelOpt).
  var eagleConfigKeys: [String] {
    config?.json["eagle_config"]?.objectMembers?.map(\.key) ?? []
  }

  /// The config's `architectures`, compactly for evidence: `["LlamaForCausalLM"]`.
  var architecturesText: String? {
    guard let architectures = config?.architectures, !architectures.isEmpty else { return nil }
    return "[" + architectures.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
  }
}
