/// A checkpoint as read from disk: its files, its `config.json`, and the catalog of its tensors.
///
/// Opening a checkpoint (``CheckpointReader/open(_:)``) reads headers only: safetensors JSON
/// headers, zip central directories and pickles, index files and `config.json`. Tensor bytes are
/// read later, on demand, through ``TensorReader``.
public struct Checkpoint: Sendable {
  /// The path as the user gave it.
  public var location: String
  /// The directory holding the checkpoint (the parent directory for a single file).
  public var directory: String
  /// Every file that makes up the checkpoint: weights, indexes, configs.
  public var files: [CheckpointFile]
  /// The parsed `config.json`, if one was found next to the weights.
  public var config: JSONValue?
  /// safetensors `__metadata__` per weights file name (absent for files without it).
  public var metadata: [String: [String: String]]
  /// All tensors, sorted by name.
  public var tensors: [TensorInfo]

  /// Creates a checkpoint description. Tensors are sorted by name.
  package init(
    location: String, directory: String, files: [CheckpointFile], config: JSONValue?,
    metadata: [String: [String: String]] = [:], tensors: [TensorInfo]
  ) {
    self.location = location
    self.directory = directory
    self.files = files
    self.config = config
    self.metadata = metadata
    // Readers often hand tensors over in name order already: one pass tells, and saves the sort.
    let inOrder = tensors.indices.dropFirst().allSatisfy { !(tensors[$0].name < tensors[$0 - 1].name) }
    self.tensors = inOrder ? tensors : tensors.sorted { $0.name < $1.name }
  }

  /// A checkpoint whose `tensors` are already in name order (as a reader that laid them out
  /// by a sorted index knows), saving the order check.
  init(
    location: String, directory: String, files: [CheckpointFile], config: JSONValue?,
    metadata: [String: [String: String]], tensorsInNameOrder tensors: [TensorInfo]
  ) {
    self.location = location
    self.directory = directory
    self.files = files
    self.config = config
    self.metadata = metadata
    self.tensors = tensors
  }

  /// The tensor named `name`, if present (the first of several with that name).
  public func tensor(named name: String) -> TensorInfo? {
    // Binary search over the sorted tensors: no name index to build for 100,000 tensors.
    var low = 0
    var high = tensors.count
    while low < high {
      let middle = low + (high - low) / 2
      if tensors[middle].name < name { low = middle + 1 } else { high = middle }
    }
    return low < tensors.count && tensors[low].name == name ? tensors[low] : nil
  }

  /// The weights files (safetensors or torch zips) in the order they were listed.
  public var weightFiles: [CheckpointFile] {
    files.filter { $0.kind == .safetensors || $0.kind == .torchZip }
  }

  /// Total bytes of tensor data.
  public var totalTensorBytes: Int {
    tensors.reduce(0) { $0 + $1.byteCount }
  }

  /// Total number of elements over all tensors.
  public var totalParameters: Int {
    tensors.reduce(0) { $0 + $1.elementCount }
  }
}
