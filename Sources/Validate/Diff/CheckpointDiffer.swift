import Inspect
import Platform
import Synchronization

/// Compares two checkpoints, two conversions, or a checkpoint with an audit manifest, exactly.
///
/// The comparison covers `config.json` (by JSON path), safetensors metadata, the audit
/// manifests of two conversions, the file lists, and every tensor: present on one side only,
/// shape and dtype changes, content identity by XXH3-128 digest of the dense bytes, and, for
/// tensors whose bytes differ, statistics over their values (see ``ValueStatistics``).
///
/// Cost: each tensor is read once to hash it, and a second time only when its bytes differ from
/// its counterpart's (or once, hashing as it goes, when the dtypes differ). Reading streams
/// blocks of at most ``TensorDiff/blockElements`` elements, so memory does not grow with the
/// checkpoint. Tensor pairs are compared in parallel.
public enum CheckpointDiffer {
  /// Compares the checkpoints (or audit manifests) at `a` and `b`.
  ///
  /// - Parameters:
  ///   - a: a checkpoint directory, weights file, sharded index, or `speculators-manifest.json`.
  ///   - b: the same choices.
  ///   - options: how to compare.
  ///   - progress: receives a `diff` update (tensor pairs and their bytes done) each time a
  ///     tensor pair is done, from worker threads.
  /// - Throws: ``CheckpointError`` when either side cannot be read.
  public static func diff(
    _ a: String, _ b: String, options: DiffOptions, progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> DiffReport {
    let sideA = try DiffSide.open(a)
    let sideB = try DiffSide.open(b)
    return try diff(sideA, sideB, options: options, reader: TensorReader(), progress: progress)
  }

  /// Compares two checkpoints already opened.
  package static func diff(
    _ a: Checkpoint, _ b: Checkpoint, options: DiffOptions, reader: TensorReader = TensorReader(),
    progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> DiffReport {
    return try diff(
      DiffSide(checkpoint: a), DiffSide(checkpoint: b), options: options, reader: reader, progress: progress)
  }

  static func diff(
    _ a: DiffSide, _ b: DiffSide, options: DiffOptions, reader: TensorReader, progress: ProgressHandler? = nil
  ) throws(CheckpointError) -> DiffReport {
    let configNote: String?
    let configDifferences: [ConfigDifference]
    if a.isManifest || b.isManifest {
      configNote = "not compared: a manifest records config.json by digest only (see files)"
      configDifferences = []
    } else {
      configNote = nil
      configDifferences = ConfigDiff.compare(a.config, b.config)
    }
    let metadataDifferences =
      a.isManifest || b.isManifest
      ? [] : ConfigDiff.compare(metadataJSON(a.metadata), metadataJSON(b.metadata), volatileKeys: [])
    var manifestDifferences: [ConfigDifference] = []
    if let manifestA = a.manifest, let manifestB = b.manifest {
      manifestDifferences = ConfigDiff.compare(
        ManifestRecord.record(of: manifestA), ManifestRecord.record(of: manifestB),
        volatileKeys: ManifestRecord.volatileKeys)
    }
    let fileDifferences = try FileDiff.compare(
      a, b, configsCompared: configNote == nil, configsEqual: configDifferences.isEmpty)
    let pairing = TensorPairing.make(a, b, mode: options.mapping)
    let tensors = try compareAll(pairing.pairs, reader: reader, options: options, progress: progress)
    return DiffReport(
      a: summary(of: a), b: summary(of: b), options: options, mapping: pairing.mapping, configNote: configNote,
      configDifferences: configDifferences, metadataDifferences: metadataDifferences,
      manifestDifferences: manifestDifferences, fileDifferences: fileDifferences, tensors: tensors)
  }

  /// Compares every pair, in parallel, largest first; results in the pairs' order.
  private static func compareAll(
    _ pairs: [TensorPair], reader: TensorReader, options: DiffOptions, progress: ProgressHandler?
  ) throws(CheckpointError) -> [TensorComparison] {
    let bytesTotal = pairs.reduce(0) { $0 + bytes(of: $1) }
    let done = Mutex(
      ProgressUpdate(task: "diff", bytesDone: 0, bytesTotal: bytesTotal, tensorsDone: 0, tensorsTotal: pairs.count))
    return try ConcurrentWork.map(count: pairs.count, cost: { bytes(of: pairs[$0]) }) {
      index throws(CheckpointError) in
      let comparison = try TensorDiff.compare(pairs[index], reader: reader, options: options)
      if let progress {
        let now = done.withLock { state in
          state.tensorsDone = (state.tensorsDone ?? 0) + 1
          state.bytesDone += bytes(of: pairs[index])
          return state
        }
        progress(now)
      }
      return comparison
    }
  }

  /// The tensor bytes a pair reads at least once (both sides; nothing for a manifest side).
  private static func bytes(of pair: TensorPair) -> Int {
    guard pair.kind == .counterpart else { return 0 }
    return (pair.a?.info?.byteCount ?? 0) + (pair.b?.info?.byteCount ?? 0)
  }

  private static func metadataJSON(_ metadata: [String: [String: String]]) -> JSONValue? {
    guard !metadata.isEmpty else { return nil }
    return .object(
      metadata.keys.sorted().map { file in
        (file, .object((metadata[file] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
      })
  }

  private static func summary(of side: DiffSide) -> DiffReport.SideSummary {
    DiffReport.SideSummary(
      path: side.path, kind: side.isManifest ? "manifest" : "checkpoint",
      speculatorsAlgorithm: side.speculatorsAlgorithm, tensorCount: side.tensors.count,
      tensorBytes: side.tensors.reduce(0) { $0 + (checkedByteCount(shape: $1.shape, dtype: $1.dtype) ?? 0) },
      fileCount: side.files.count)
  }
}
