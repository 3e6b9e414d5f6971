import Inspect

/// A difference between the files that make up two checkpoints.
public struct FileDifference: Sendable, Equatable {
  /// What differs.
  public enum Change: String, Sendable {
    /// Only A has a file of this name.
    case onlyInA = "only-in-a"
    /// Only B has a file of this name.
    case onlyInB = "only-in-b"
    /// Both have it, with different sizes.
    case sizeChanged = "size-changed"
    /// Both have it, same size, different SHA-256.
    case contentChanged = "content-changed"
  }

  /// The file name, relative to the checkpoint directory.
  public var name: String
  /// What differs.
  public var change: Change
  /// A's size, if A has the file.
  public var aSize: Int?
  /// B's size, if B has the file.
  public var bSize: Int?
  /// A's SHA-256, when it was compared.
  public var aSHA256: String?
  /// B's SHA-256, when it was compared.
  public var bSHA256: String?
  /// Whether this makes the checkpoints different. A `config.json` whose bytes differ but
  /// whose JSON content is equal does not, nor does the size of a weights file (its tensors
  /// and metadata are compared on their own).
  public var isDifference: Bool
  /// A short explanation.
  public var note: String?
}

/// Compares the file lists of two sides.
///
/// Files are matched by name; a file on one side only always counts as a difference. Weights
/// files (safetensors, PyTorch zips) of the same name are compared by size, and a size change is
/// reported without counting: their tensors are compared one by one, and safetensors metadata
/// separately. Every other file present on both sides (configs, indexes, tokenizer files) is
/// compared by SHA-256 as well, except that `config.json` is compared by content in its own
/// section (here it only shows when its bytes differ without any content difference). The audit
/// manifest is compared as JSON, in its own section, and a manifest side does not list itself.
enum FileDiff {
  static func compare(
    _ a: DiffSide, _ b: DiffSide, configsCompared: Bool, configsEqual: Bool
  ) throws(CheckpointError) -> [FileDifference] {
    let skipManifest = a.isManifest || b.isManifest
    func listed(_ side: DiffSide) -> [String: DiffSide.File] {
      let files = side.files.filter { !(skipManifest && $0.kind == .manifest) }
      return Dictionary(files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
    let filesA = listed(a)
    let filesB = listed(b)
    var differences: [FileDifference] = []
    for name in Set(filesA.keys).union(filesB.keys).sorted() {
      switch (filesA[name], filesB[name]) {
      case (let fileA?, nil):
        differences.append(
          FileDifference(name: name, change: .onlyInA, aSize: fileA.size, isDifference: true))
      case (nil, let fileB?):
        differences.append(
          FileDifference(name: name, change: .onlyInB, bSize: fileB.size, isDifference: true))
      case (let fileA?, let fileB?):
        if fileA.kind == .manifest { continue }  // compared as JSON in the manifest section
        // config.json contents are compared by JSON path in their own section; a byte-level
        // difference is reported here only when that section found none (formatting). Weights
        // files hold tensors and metadata, which are compared one by one in their sections.
        let isComparedConfig = fileA.kind == .config && configsCompared
        if isComparedConfig && !configsEqual { continue }
        let isWeights = fileA.kind == .safetensors || fileA.kind == .torchZip
        let note: String? =
          isComparedConfig
          ? "same JSON content (formatting differs)" : (isWeights ? "its tensors and metadata are compared below" : nil)
        let counts = !isComparedConfig && !isWeights
        if fileA.size != fileB.size {
          differences.append(
            FileDifference(
              name: name, change: .sizeChanged, aSize: fileA.size, bSize: fileB.size, isDifference: counts, note: note))
          continue
        }
        if isWeights { continue }
        let shaA = try sha256(of: fileA)
        let shaB = try sha256(of: fileB)
        if shaA != shaB {
          differences.append(
            FileDifference(
              name: name, change: .contentChanged, aSize: fileA.size, bSize: fileB.size, aSHA256: shaA,
              bSHA256: shaB, isDifference: counts, note: note))
        }
      case (nil, nil):
        break
      }
    }
    return differences
  }

  private static func sha256(of file: DiffSide.File) throws(CheckpointError) -> String {
    if let recorded = file.recordedSHA256 { return recorded }
    guard let path = file.path else {
      throw CheckpointError(.notFound, file: file.name, reason: "no path to hash")
    }
    return try CheckpointHasher.sha256(ofFile: path)
  }
}
