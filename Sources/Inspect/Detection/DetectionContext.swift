/// The detector's view of a checkpoint: tensors by name (optionally with a common prefix
/// stripped), the parsed config, and the weights files. Reads headers only, never tensor data.
struct DetectionContext: Sendable {
  /// Prefixes that wrap a whole draft state dict and are stripped before matching.
  static let strippablePrefixes = ["model.", "eagle_module.", "draft_model.", "speculator."]

  let checkpoint: Checkpoint
  let config: ModelConfig?
  /// The prefix stripped from the names, if any.
  let prefix: String?
  let tensors: [String: TensorInfo]
  /// Tensor names (after stripping), sorted.
  let names: [String]

  init(_ checkpoint: Checkpoint) {
    // The checkpoint's tensors are already sorted by name: keep that order (first of duplicates).
    var tensors: [String: TensorInfo] = [:]
    tensors.reserveCapacity(checkpoint.tensors.count)
    var names: [String] = []
    names.reserveCapacity(checkpoint.tensors.count)
    for tensor in checkpoint.tensors where tensors[tensor.name] == nil {
      tensors[tensor.name] = tensor
      names.append(tensor.name)
    }
    self.init(checkpoint: checkpoint, prefix: nil, tensors: tensors, sortedNames: names)
  }

  private init(checkpoint: Checkpoint, prefix: String?, tensors: [String: TensorInfo], sortedNames: [String]? = nil) {
    self.checkpoint = checkpoint
    if let json = checkpoint.config, json.objectMembers != nil {
      config = ModelConfig(json)
    } else {
      config = nil
    }
    self.prefix = prefix
    self.tensors = tensors
    names = sortedNames ?? tensors.keys.sorted()
  }

  /// The same checkpoint with a common wrapper prefix removed, when every tensor name except
  /// `lm_head.*` carries one of ``strippablePrefixes`` (NeMo keeps `lm_head.weight` outside
  /// `model.`) and stripping creates no duplicate names; `nil` otherwise.
  func strippingPrefix() -> DetectionContext? {
    guard prefix == nil, !names.isEmpty else { return nil }
    candidates: for candidate in Self.strippablePrefixes {
      // The all-names test first: it stops at the first name without the prefix.
      // Byte-wise prefix tests: the prefixes are ASCII, and String.hasPrefix's Unicode-aware
      // comparison was a large part of detection time on 100,000 names.
      let prefixBytes = candidate.utf8
      let headBytes = "lm_head.".utf8
      guard names.allSatisfy({ $0.utf8.starts(with: prefixBytes) || $0.utf8.starts(with: headBytes) }),
        names.contains(where: { $0.utf8.starts(with: prefixBytes) })
      else { continue }
      var stripped: [String: TensorInfo] = [:]
      stripped.reserveCapacity(names.count)
      // Removing a common prefix keeps sorted names sorted, so the stripped names and the
      // untouched `lm_head.*` names are two sorted runs: merge them instead of sorting again.
      var shortened: [String] = []
      var kept: [String] = []
      shortened.reserveCapacity(names.count)
      for name in names {
        let hasCandidate = name.utf8.starts(with: prefixBytes)
        let short = hasCandidate ? String(Substring(name.utf8.dropFirst(prefixBytes.count))) : name
        guard !short.isEmpty, stripped[short] == nil, let info = tensors[name] else { continue candidates }
        stripped[short] = info
        if hasCandidate { shortened.append(short) } else { kept.append(short) }
      }
      return DetectionContext(
        checkpoint: checkpoint, prefix: candidate, tensors: stripped,
        sortedNames: Self.merge(shortened, kept))
    }
    return nil
  }

  /// Two sorted arrays merged into one sorted array.
  static func merge(_ lhs: [String], _ rhs: [String]) -> [String] {
    guard !rhs.isEmpty else { return lhs }
    guard !lhs.isEmpty else { return rhs }
    var merged: [String] = []
    merged.reserveCapacity(lhs.count + rhs.count)
    var left = 0
    var right = 0
    while left < lhs.count && right < rhs.count {
      if rhs[right] < lhs[left] {
        merged.append(rhs[right])
        right += 1
      } else {
        merged.append(lhs[left])
        left += 1
      }
    }
    merged += lhs[left...]
    merged += rhs[right...]
    return merged
  }

  /// The tensors whose names start with `scope`, with `scope` removed (for example the
  /// `eagle_module.` part of a ModelOpt training checkpoint).
  func scoped(to scope: String) -> DetectionContext {
    var inner: [String: TensorInfo] = [:]
    for name in names where name.hasPrefix(scope) && name.count > scope.count {
      inner[String(name.dropFirst(scope.count))] = tensors[name]
    }
    return DetectionContext(checkpoint: checkpoint, prefix: scope, tensors: inner)
  }

  // MARK: Names and shapes

  func has(_ name: String) -> Bool { tensors[name] != nil }

  func shape(_ name: String) -> [Int]? { tensors[name]?.shape }

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
    names.contains { $0.hasPrefix(start) }
  }

  func names(hasPrefix start: String) -> [String] {
    names.filter { $0.hasPrefix(start) }
  }

  /// `name [d0, d1]`, or just the name when absent.
  func described(_ name: String) -> String {
    guard let shape = shape(name) else { return name }
    return "\(name) \(Self.shapeText(shape))"
  }

  /// `name [d0] DTYPE`.
  func describedWithDType(_ name: String) -> String {
    guard let info = tensors[name] else { return name }
    return "\(name) \(Self.shapeText(info.shape)) \(info.dtype.rawValue)"
  }

  static func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }

  /// Distinct indices `N` of `<component>.N.` path segments (for example `layers`), over all
  /// names or only those starting with `start`.
  func layerIndices(component: String = "layers", under start: String = "") -> [Int] {
    // Scans UTF-8 bytes segment by segment: splitting every name into substrings dominated
    // detection time on checkpoints with 100,000 tensors.
    var indices = Set<Int>()
    let marker = Array(component.utf8)
    let skip = start.utf8.count
    for var name in names where name.hasPrefix(start) {
      name.withUTF8 { text in
        var segmentStart = skip
        var previousWasMarker = false
        var position = skip
        while position <= text.count {
          if position == text.count || text[position] == UInt8(ascii: ".") {
            let segment = UnsafeBufferPointer(rebasing: text[segmentStart..<position])
            if previousWasMarker, let index = Int(String(decoding: segment, as: UTF8.self)), index >= 0 {
              indices.insert(index)
            }
            previousWasMarker = position < text.count && segment.elementsEqual(marker)
            segmentStart = position + 1
          }
          position += 1
        }
      }
    }
    return indices.sorted()
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
