/// Which files of a model directory (or of a Hub repository's file list) are its weights.
///
/// One rule, used by ``CheckpointReader`` when it opens a directory and by the Hub and URL
/// sources when they choose what to fetch, so a download never holds more or fewer weights
/// than the reader then opens:
///
/// 1. the first of ``preferredNames`` present (the order `transformers` tries them);
/// 2. otherwise a single `*.safetensors.index.json`, then a single `*.bin.index.json`;
/// 3. otherwise a single `*.safetensors` file, then a single pickle (`*.bin`, `*.pt`, `*.pth`),
///    training-state files (``isTrainingState(_:)``) excluded.
///
/// Several candidates at the first step that has any are ambiguous: the caller is asked to name
/// the one to use, rather than guessing or reading them all. Only top-level names count (a
/// file list's `sub/dir/x.safetensors` is not the model's weights).
package enum WeightFiles {
  /// The weights files to read.
  package enum Selection: Sendable, Equatable {
    /// A `*.index.json` whose `weight_map` names the shards.
    case index(String)
    /// One weights file without an index.
    case file(String)
  }

  /// Why no selection could be made.
  package enum Refusal: Error, Sendable, Equatable {
    /// No weights file at all.
    case none
    /// Several index files of one kind.
    case severalIndexes([String])
    /// Several weights files of one kind and no index.
    case severalFiles([String])

    /// A one-line reason for an error about `location`.
    package var reason: String {
      switch self {
      case .none:
        return "no weights found (looked for \(WeightFiles.preferredNames.joined(separator: ", ")), or one "
          + WeightFiles.weightsExtensions.map { "*" + $0 }.joined(separator: "/") + " file)"
      case .severalIndexes(let names):
        return "several index files (\(names.joined(separator: ", "))); pass the one to use"
      case .severalFiles(let names):
        return "several weights files and no index (\(names.joined(separator: ", "))); pass the one to use"
      }
    }
  }

  /// Weights-file names tried first, in order.
  package static let preferredNames = [
    "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin",
  ]

  /// File-name extensions that may hold weights.
  package static let weightsExtensions = [".safetensors", ".bin", ".pt", ".pth"]

  /// Name prefixes of training by-products (Trainer and Accelerate state), never model weights.
  package static let trainingStatePrefixes = [
    "optimizer", "scheduler", "scaler", "rng_state", "random_states", "training_args",
  ]

  /// Chooses the weights among `names` (file names of one directory level; the caller passes
  /// regular files only).
  package static func select(among names: some Sequence<String>) -> Result<Selection, Refusal> {
    let top = Set(names.filter { !$0.contains("/") && !$0.hasPrefix(".") })
    for name in preferredNames where top.contains(name) {
      return .success(name.hasSuffix(".index.json") ? .index(name) : .file(name))
    }
    let sorted = top.sorted()
    for suffix in [".safetensors.index.json", ".bin.index.json"] {
      let indexes = sorted.filter { $0.hasSuffix(suffix) }
      if indexes.count == 1 { return .success(.index(indexes[0])) }
      if indexes.count > 1 { return .failure(.severalIndexes(indexes)) }
    }
    let candidates = sorted.filter(isWeightsCandidate)
    let safetensors = candidates.filter { $0.hasSuffix(".safetensors") }
    for group in [safetensors, candidates.filter { !$0.hasSuffix(".safetensors") }] {
      if group.count == 1 { return .success(.file(group[0])) }
      if group.count > 1 { return .failure(.severalFiles(group)) }
    }
    return .failure(.none)
  }

  /// Whether `name` may hold model weights: a weights extension and not training state.
  package static func isWeightsCandidate(_ name: String) -> Bool {
    weightsExtensions.contains(where: { name.hasSuffix($0) }) && !isTrainingState(name)
  }

  /// Whether `name` is a training by-product: a ``trainingStatePrefixes`` name, or an extra
  /// model of an Accelerate training state (`pytorch_model_1.bin`, … ; `_0` is the model itself).
  package static func isTrainingState(_ name: String) -> Bool {
    let lowered = name.lowercased()
    if trainingStatePrefixes.contains(where: { lowered.hasPrefix($0) }) { return true }
    if lowered.hasSuffix(".bin"), let underscore = lowered.lastIndex(of: "_") {
      let digits = lowered[lowered.index(after: underscore)..<lowered.index(lowered.endIndex, offsetBy: -4)]
      if !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }), digits != "0" { return true }
    }
    return false
  }
}
