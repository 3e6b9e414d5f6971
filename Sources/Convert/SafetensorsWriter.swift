import Inspect

/// Writes tensors as safetensors files, streamed and deterministic.
///
/// Layout follows the reference writer (`safetensors/src/tensor.rs`
/// `serialize` in huggingface/safetensors): tensors ordered by
/// dtype (descending reference-enum rank) then name (byte-wise), offsets contiguous from 0, a
/// compact JSON header `{"__metadata__":{"format":"pt"},…}` padded with spaces to a multiple of
/// 8. Above ``maxShardSize`` bytes of tensor data the tensors are split greedily, in that order,
/// into `model-0000i-of-0000n.safetensors` with a `model.safetensors.index.json`.
///
/// Tensor bytes are streamed from ``TensorReader`` chunks (cast when the entry's dtype differs
/// from the source's), so memory stays bounded by the chunk and write buffers whatever the
/// checkpoint size. The XXH3-128 of every tensor and the SHA-256 of every file are computed
/// while writing.
public struct SafetensorsWriter: Sendable {
  /// The single-file name.
  package static let singleFileName = "model.safetensors"
  /// The index name used when sharding.
  package static let indexFileName = "model.safetensors.index.json"
  /// The default shard limit, 5 GB (transformers 4.x / huggingface_hub default).
  public static let defaultMaxShardSize = 5_000_000_000
  /// The largest header the reference reader accepts.
  package static let maximumHeaderSize = 100_000_000

  /// Where an entry's values come from.
  package enum Content: Sendable, Hashable {
    /// The bytes of a checkpoint tensor (cast to the entry's dtype when they differ).
    case tensor(TensorInfo)
    /// A constant.
    case fill(ConversionMapping.Fill)
  }

  /// One tensor to write.
  package struct Entry: Sendable, Hashable {
    /// The name in the output.
    package var name: String
    /// The dtype in the output.
    package var dtype: DType
    /// The shape in the output (same element count as the source).
    package var shape: [Int]
    /// Where the values come from.
    package var content: Content

    /// Creates an entry.
    package init(name: String, dtype: DType, shape: [Int], content: Content) {
      self.name = name
      self.dtype = dtype
      self.shape = shape
      self.content = content
    }
  }

  /// A tensor as written.
  package struct WrittenTensor: Sendable, Hashable {
    /// Its name.
    package var name: String
    /// Its dtype.
    package var dtype: DType
    /// Its shape.
    package var shape: [Int]
    /// The file it went to.
    package var file: String
    /// XXH3-128 of the written bytes.
    package var xxh3: String
    /// XXH3-128 of the source bytes (equal to ``xxh3`` when nothing was cast; `nil` for fills).
    package var sourceXXH3: String?
  }

  /// Everything written.
  package struct Output: Sendable, Hashable {
    /// Every tensor, in writer order.
    package var tensors: [WrittenTensor]
    /// Every file written (shards and index), sorted by name.
    package var files: [AuditManifest.FileDigest]
  }

  /// The largest shard, in bytes of tensor data (a single larger tensor gets a shard of its own).
  package var maxShardSize: Int
  /// The largest chunk read from a source at once.
  package var chunkSize: Int

  /// Creates a writer.
  package init(
    maxShardSize: Int = SafetensorsWriter.defaultMaxShardSize, chunkSize: Int = TensorReader.defaultChunk
  ) {
    self.maxShardSize = maxShardSize
    self.chunkSize = chunkSize
  }

  /// The reference writer's order: dtype rank descending, then name byte-wise ascending.
  package static func precedes(_ lhs: Entry, _ rhs: Entry) -> Bool {
    if lhs.dtype.writerRank != rhs.dtype.writerRank { return lhs.dtype.writerRank > rhs.dtype.writerRank }
    return Array(lhs.name.utf8).lexicographicallyPrecedes(Array(rhs.name.utf8))
  }

  /// Splits `entries` (already in writer order) into shards of at most `maxShardSize` data bytes.
  package static func shards(of entries: [Entry], maxShardSize: Int) -> [[Entry]] {
    var shards: [[Entry]] = []
    var current: [Entry] = []
    var currentSize = 0
    for entry in entries {
      let size = checkedByteCount(shape: entry.shape, dtype: entry.dtype) ?? 0
      if !current.isEmpty && (currentSize > maxShardSize - size) {
        shards.append(current)
        current = []
        currentSize = 0
      }
      current.append(entry)
      currentSize += size
    }
    if !current.isEmpty || shards.isEmpty { shards.append(current) }
    return shards
  }

  /// The file name of shard `index` (0-based) of `count`.
  package static func shardFileName(_ index: Int, of count: Int) -> String {
    count == 1 ? singleFileName : "model-\(fiveDigits(index + 1))-of-\(fiveDigits(count)).safetensors"
  }

  private static func fiveDigits(_ value: Int) -> String {
    let text = String(value)
    return text.count >= 5 ? text : String(repeating: "0", count: 5 - text.count) + text
  }

  /// Writes `entries` into `directory` (which must exist; the files must not). Errors name files
  /// as `displayDirectory/<name>` (the final output path when writing into a temporary one).
  /// `progress` receives `writing tensors` updates: tensor bytes written of ``totalBytes(of:)``.
  ///
  /// - Throws: ``ConversionError``: `.refused` for a duplicate or reserved name, a shape that
  ///   does not match its source, an impossible cast, or a narrowing cast that overflows
  ///   (naming the tensor and the element); `.write` when a file cannot be written.
  ///   ``CheckpointError`` when a source tensor cannot be read.
  package func write(
    _ entries: [Entry], into directory: String, reader: TensorReader, displayDirectory: String? = nil,
    progress: ProgressHandler? = nil
  ) throws -> Output {
    let shown = displayDirectory ?? directory
    guard maxShardSize > 0 else {
      throw UsageError(
        directory, reason: "the maximum shard size must be positive")
    }
    try validate(entries, directory: directory)
    let counter = progress.map { ProgressCounter(task: "writing tensors", total: Self.totalBytes(of: entries), handler: $0) }
    let ordered = entries.sorted(by: Self.precedes)
    let shards = Self.shards(of: ordered, maxShardSize: maxShardSize)
    var written: [WrittenTensor] = []
    var files: [AuditManifest.FileDigest] = []
    var weightMap: [(key: String, value: JSONValue)] = []
    var totalSize = 0
    for (index, shard) in shards.enumerated() {
      let name = Self.shardFileName(index, of: shards.count)
      let (tensors, digest) = try writeShard(
        shard, named: name, in: directory, shownAs: shown + "/" + name, reader: reader, progress: counter)
      written += tensors
      files.append(digest)
      for tensor in shard {
        weightMap.append((tensor.name, .string(name)))
        totalSize += checkedByteCount(shape: tensor.shape, dtype: tensor.dtype) ?? 0
      }
    }
    if shards.count > 1 {
      let index: JSONValue = [
        "metadata": ["total_size": .int(Int64(totalSize))],
        "weight_map": .object(weightMap),
      ]
      files.append(
        try Self.writeText(
          JSONWriter.pretty(index) + "\n", named: Self.indexFileName, in: directory, displayDirectory: shown))
    }
    return Output(tensors: written, files: files.sorted { $0.name < $1.name })
  }

  /// Writes a small text file and returns its digest; errors name it under `displayDirectory`.
  package static func writeText(
    _ text: String, named name: String, in directory: String, displayDirectory: String? = nil
  ) throws -> AuditManifest.FileDigest {
    let sink = try FileSink(
      path: directory + "/" + name, displayName: (displayDirectory ?? directory) + "/" + name)
    try sink.write(Array(text.utf8))
    let sha = try sink.finish()
    return AuditManifest.FileDigest(name: name, size: sink.size, sha256: sha)
  }

  private func validate(_ entries: [Entry], directory: String) throws {
    var seen = Set<String>()
    for entry in entries {
      guard entry.name != "__metadata__", !entry.name.isEmpty else {
        throw ConversionError(
          .refused, file: directory, tensor: entry.name, reason: "reserved tensor name")
      }
      guard seen.insert(entry.name).inserted else {
        throw ConversionError(
          .refused, file: directory, tensor: entry.name, reason: "tensor written twice")
      }
      guard checkedByteCount(shape: entry.shape, dtype: entry.dtype) != nil else {
        throw ConversionError(
          .refused, file: directory, tensor: entry.name, reason: "tensor size overflows")
      }
      guard entry.dtype.bytesPerElement != nil else {
        throw ConversionError(
          .refused, file: directory, tensor: entry.name,
          reason: "sub-byte dtype \(entry.dtype.rawValue) cannot be written")
      }
      switch entry.content {
      case .tensor(let source):
        guard !TensorReader.isExpandedView(source) else {
          throw ConversionError(
            .refused, file: source.file, tensor: source.name,
            reason: "an expanded view (shape \(source.shape), a stride of 0 or overlapping strides) cannot be "
              + "converted: the output stores dense tensors; save it with .contiguous() or .clone() first")
        }
        guard source.elementCount == entry.shape.reduce(1, *) else {
          throw ConversionError(
            .refused, file: source.file, tensor: source.name,
            reason: "shape \(source.shape) does not match the output shape \(entry.shape)")
        }
        guard source.dtype == entry.dtype || ElementCodec.canCast(from: source.dtype, to: entry.dtype) else {
          throw ConversionError(
            .refused, file: source.file, tensor: source.name,
            reason: "cannot cast \(source.dtype.rawValue) to \(entry.dtype.rawValue)")
        }
      case .fill:
        guard ElementCodec.castTypes.contains(entry.dtype) else {
          throw ConversionError(
            .refused, file: directory, tensor: entry.name,
            reason: "constant tensors must be F32, F16 or BF16, not \(entry.dtype.rawValue)")
        }
      }
    }
  }

  /// The serialized, padded header of one shard.
  static func header(for shard: [Entry]) -> [UInt8] {
    var members: [(key: String, value: JSONValue)] = [("__metadata__", ["format": "pt"])]
    var offset = 0
    for entry in shard {
      let size = checkedByteCount(shape: entry.shape, dtype: entry.dtype) ?? 0
      members.append(
        (
          entry.name,
          [
            "dtype": .string(entry.dtype.rawValue),
            "shape": .array(entry.shape.map { .int(Int64($0)) }),
            "data_offsets": [.int(Int64(offset)), .int(Int64(offset + size))],
          ]
        ))
      offset += size
    }
    var bytes = Array(JSONWriter.compact(.object(members)).utf8)
    while bytes.count % 8 != 0 { bytes.append(0x20) }
    return bytes
  }

  /// The tensor bytes `entries` make in the output.
  package static func totalBytes(of entries: [Entry]) -> Int {
    entries.reduce(0) { $0 + (checkedByteCount(shape: $1.shape, dtype: $1.dtype) ?? 0) }
  }

  private func writeShard(
    _ shard: [Entry], named name: String, in directory: String, shownAs shown: String, reader: TensorReader,
    progress: ProgressCounter?
  ) throws -> ([WrittenTensor], AuditManifest.FileDigest) {
    let header = Self.header(for: shard)
    guard header.count <= Self.maximumHeaderSize else {
      throw ConversionError(
        .refused, file: shown, reason: "header of \(header.count) bytes exceeds 100 MB")
    }
    let sink = try FileSink(path: directory + "/" + name, displayName: shown)
    let length = UInt64(header.count)
    try sink.write((0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
    try sink.write(header)
    var written: [WrittenTensor] = []
    for entry in shard {
      let (digest, sourceDigest) = try writeTensor(entry, to: sink, reader: reader, progress: progress)
      written.append(
        WrittenTensor(
          name: entry.name, dtype: entry.dtype, shape: entry.shape, file: name, xxh3: digest,
          sourceXXH3: sourceDigest))
    }
    let sha = try sink.finish()
    return (written, AuditManifest.FileDigest(name: name, size: sink.size, sha256: sha))
  }

  /// The block of a read chunk processed in one go: 256 KiB, a multiple of every element size,
  /// small enough that the block and its cast stay in a core's L2 cache between passes.
  static let cacheBlock = 256 << 10

  private func writeTensor(
    _ entry: Entry, to sink: FileSink, reader: TensorReader, progress: ProgressCounter?
  ) throws -> (String, String?) {
    var outputHasher = XXH3Hasher()
    let expected = checkedByteCount(shape: entry.shape, dtype: entry.dtype) ?? 0
    switch entry.content {
    case .fill(let fill):
      let pattern = Self.fillPattern(fill, dtype: entry.dtype)
      let block = Array(
        repeating: pattern, count: max(1, min(chunkSize, FileSink.bufferSize) / pattern.count)
      ).flatMap { $0 }
      var remaining = expected
      while remaining > 0 {
        let take = min(remaining, block.count)
        try withBytes(of: block) { raw throws in
          let slice = UnsafeRawBufferPointer(rebasing: raw[0..<take])
          outputHasher.update(slice)
          try sink.write(slice)
        }
        remaining -= take
        progress?.advance(by: take)
      }
      return (outputHasher.finalizeHex(), nil)
    case .tensor(let source):
      let casting = source.dtype != entry.dtype
      var sourceHasher = XXH3Hasher()
      var produced = 0
      var elementBase = 0
      var scratch = [UInt8]()
      if casting, let inSize = source.dtype.bytesPerElement, let outSize = entry.dtype.bytesPerElement {
        scratch = [UInt8](repeating: 0, count: (max(Self.cacheBlock, inSize) / inSize + 1) * outSize)
      }
      do {
        try reader.forEachChunk(of: source, maxChunk: chunkSize) { whole in
          // Work through the chunk in cache-sized blocks, so hashing the source, casting, hashing
          // the result and copying it out each find the bytes still in the CPU's cache.
          var blockStart = 0
          while blockStart < whole.count {
            let blockEnd = min(whole.count, blockStart + Self.cacheBlock)
            let chunk = UnsafeRawBufferPointer(rebasing: whole[blockStart..<blockEnd])
            blockStart = blockEnd
            if casting {
              sourceHasher.update(chunk)
              let inSize = source.dtype.bytesPerElement ?? 1
              let outSize = entry.dtype.bytesPerElement ?? 1
              let count = chunk.count / inSize
              if scratch.count < count * outSize { scratch = [UInt8](repeating: 0, count: count * outSize) }
              let outcome = scratch.withUnsafeMutableBytes { out in
                ElementCodec.cast(chunk, from: source.dtype, to: entry.dtype, into: out)
              }
              if let index = outcome.firstOverflow {
                throw ConversionError(
                  .refused, file: source.file, tensor: source.name,
                  reason: "element \(elementBase + index) (\(outcome.overflowValue ?? .infinity)) overflows "
                    + "\(entry.dtype.torchName); refusing the narrowing cast")
              }
              try withBytes(of: scratch) { raw throws in
                let slice = UnsafeRawBufferPointer(rebasing: raw[0..<(count * outSize)])
                outputHasher.update(slice)
                try sink.write(slice)
              }
              produced += count * outSize
              elementBase += count
              progress?.advance(by: count * outSize)
            } else {
              outputHasher.update(chunk)
              try sink.write(chunk)
              produced += chunk.count
              progress?.advance(by: chunk.count)
            }
          }
        }
      } catch let error as any LocatedError {
        throw error
      } catch {
        throw CheckpointError(.io, file: source.file, tensor: source.name, reason: "\(error)")
      }
      guard produced == expected else {
        throw CheckpointError(
          .malformed, file: source.file, tensor: source.name,
          reason: "read \(produced) bytes where \(expected) were expected")
      }
      let digest = outputHasher.finalizeHex()
      return (digest, casting ? sourceHasher.finalizeHex() : digest)
    }
  }

  /// One element of `fill` in `dtype`, little-endian.
  static func fillPattern(_ fill: ConversionMapping.Fill, dtype: DType) -> [UInt8] {
    let size = dtype.bytesPerElement ?? 1
    guard fill == .ones else { return [UInt8](repeating: 0, count: size) }
    switch dtype {
    case .F32: return [0x00, 0x00, 0x80, 0x3F]
    case .F16: return [0x00, 0x3C]
    case .BF16: return [0x80, 0x3F]
    default: return [UInt8](repeating: 0, count: size)
    }
  }
}
