/// The detector's view of a checkpoint: tensors by name (optionally with a common prefix
/// stripped), the parsed config, and the weights files. Reads headers only, never tensor data.
struct DetectionContext: Sendable {
  /// Prefixes that wrap a whole draft state dict and are stripped before matching.
  static let strippablePrefixes = ["model.", "eagle_module.", "draft_model.", "speculator."]

  let checkpoint: Checkpoint
  let config: ModelConfig?
  /// The prefix stripped from the names, if any.
  let prefix: String?
  /// Tensor names (after stripping), sorted, each once.
  let names: [String]
  /// For each of ``names``, the position of its tensor in `checkpoint.tensors`; `nil` when
  /// the two line up one to one.
  private let positions: [Int]?

  // Tensors are looked up by binary search over the sorted names and read in place from the
  // checkpoint: no per-name dictionary or copy of the tensor list is built, which is what
  // detection time on 100,000-tensor checkpoints went to.

  init(_ checkpoint: Checkpoint) {
    // The checkpoint's tensors are sorted by name; keep the first of equal names.
    let tensors = checkpoint.tensors
    var names: [String] = []
    names.reserveCapacity(tensors.count)
    var positions: [Int]?
    for (position, tensor) in tensors.enumerated() {
      if let last = names.last, !(last < tensor.name) {
        if positions == nil { positions = Array(0..<position) }
        continue
      }
      names.append(tensor.name)
      positions?.append(position)
    }
    self.init(checkpoint: checkpoint, prefix: nil, names: names, positions: positions)
  }

  /// A view of `checkpoint` whose `names` (sorted, distinct) name the tensors at `positions`.
  private init(checkpoint: Checkpoint, prefix: String?, names: [String], positions: [Int]?) {
    self.checkpoint = checkpoint
    if let json = checkpoint.config, json.objectMembers != nil {
      config = ModelConfig(json)
    } else {
      config = nil
    }
    self.prefix = prefix
    self.names = names
    self.positions = positions
  }

  /// A view named by `pairs` (names in any order, possibly repeated; for a repeated name the
  /// pair that comes last in `pairs` wins, as an assignment to a dictionary would decide).
  private init(checkpoint: Checkpoint, prefix: String?, pairs: [(name: String, position: Int)]) {
    let ordered = pairs.enumerated().sorted { lhs, rhs in
      lhs.element.name < rhs.element.name
        || (!(rhs.element.name < lhs.element.name) && lhs.offset < rhs.offset)
    }.map(\.element)
    var names: [String] = []
    var positions: [Int] = []
    for pair in ordered {
      if let last = names.last, !(last < pair.name) {
        positions[positions.count - 1] = pair.position
        continue
      }
      names.append(pair.name)
      positions.append(pair.position)
    }
    self.init(checkpoint: checkpoint, prefix: prefix, names: names, positions: positions)
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
      // Removing a common prefix keeps sorted names sorted, so the stripped names and the
      // untouched `lm_head.*` names are two sorted runs: merge them instead of sorting again.
      var shortened: [(name: String, position: Int)] = []
      var kept: [(name: String, position: Int)] = []
      shortened.reserveCapacity(names.count)
      for (index, name) in names.enumerated() {
        let position = self.position(at: index)
        if name.utf8.starts(with: prefixBytes) {
          let short = String(Substring(name.utf8.dropFirst(prefixBytes.count)))
          guard !short.isEmpty else { continue candidates }
          shortened.append((short, position))
        } else {
          kept.append((name, position))
        }
      }
      let merged = Self.merge(shortened, kept)
      // Sorted and distinct: every name before the next. Otherwise stripping made a name
      // twice (rejecting the prefix), or the merge was not in order after all.
      if zip(merged, merged.dropFirst()).allSatisfy({ $0.name < $1.name }) {
        return DetectionContext(
          checkpoint: checkpoint, prefix: candidate, names: merged.map(\.name), positions: merged.map(\.position))
      }
      let sorted = merged.sorted { $0.name < $1.name }
      guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0.name < $1.name }) else { continue }
      return DetectionContext(
        checkpoint: checkpoint, prefix: candidate, names: sorted.map(\.name), positions: sorted.map(\.position))
    }
    return nil
  }

  /// Two arrays sorted by name merged into one sorted array.
  static func merge(
    _ lhs: [(name: String, position: Int)], _ rhs: [(name: String, position: Int)]
  ) -> [(name: String, position: Int)] {
    guard !rhs.isEmpty else { return lhs }
    guard !lhs.isEmpty else { return rhs }
    var merged: [(name: String, position: Int)] = []
    merged.reserveCapacity(lhs.count + rhs.count)
    var left = 0
    var right = 0
    while left < lhs.count && right < rhs.count {
      if rhs[right].name < lhs[left].name {
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
    var pairs: [(name: String, position: Int)] = []
    for (index, name) in names.enumerated() where name.hasPrefix(scope) && name.count > scope.count {
      pairs.append((String(name.dropFirst(scope.count)), position(at: index)))
    }
    return DetectionContext(checkpoint: checkpoint, prefix: scope, pairs: pairs)
  }

  // MARK: Names and shapes

  /// The position in `checkpoint.tensors` of the tensor `names[index]`.
  private func position(at index: Int) -> Int {
    positions?[index] ?? index
  }

  /// The index of `name` in ``names``, by binary search.
  private func index(of name: String) -> Int? {
    var low = 0
    var high = names.count
    while low < high {
      let middle = (low + high) / 2
      if names[middle] < name { low = middle + 1 } else { high = middle }
    }
    return low < names.count && names[low] == name ? low : nil
  }

  /// The tensor named `name` (after stripping), if present.
  func tensor(_ name: String) -> TensorInfo? {
    index(of: name).map { checkpoint.tensors[position(at: $0)] }
  }

  /// The dtype of every tensor, in name order.
  var dtypes: LazyMapSequence<Range<Int>, DType> {
    let tensors = checkpoint.tensors
    let positions = positions
    return (0..<names.count).lazy.map { tensors[positions?[$0] ?? $0].dtype }
  }

  func has(_ name: String) -> Bool { index(of: name) != nil }

  func shape(_ name: String) -> [Int]? {
    index(of: name).map { checkpoint.tensors[position(at: $0)].shape }
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
    return names.filter(pattern.isPrefix)
  }

  /// The first name (in order) ending in `end`.
  func firstName(hasSuffix end: String) -> String? {
    let pattern = TensorNamePattern(end)
    return names.first(where: pattern.isSuffix)
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
    // Scans UTF-8 bytes segment by segment: splitting every name into substrings dominated
    // detection time on checkpoints with 100,000 tensors.
    var indices = Set<Int>()
    let marker = Array(component.utf8)
    let skip = start.utf8.count
    let startPattern = TensorNamePattern(start)
    for var name in names where startPattern.isPrefix(of: name) {
      name.withUTF8 { text in
        var segmentStart = skip
        var previousWasMarker = false
        var position = skip
        while position <= text.count {
          if position == text.count || text[position] == UInt8(ascii: ".") {
            let segment = UnsafeBufferPointer(rebasing: text[segmentStart..<position])
            if previousWasMarker, let index = TensorNamePattern.integer(segment), index >= 0 {
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
