import Platform

/// Digests of checkpoint files and tensors, computed in parallel across cores.
///
/// Files get SHA-256 of their whole bytes (what `sha256sum` prints). Tensors get XXH3-128 of
/// their dense little-endian bytes in the stored dtype (what `xxhsum -H2` prints for those
/// bytes), which is independent of the container: the same tensor hashes the same in a `.bin`,
/// a safetensors file and a conversion. SHA-256 cannot be split within a file, so work is
/// spread across files and across tensors.
package enum CheckpointHasher {
  /// The chunk size fed to the hashers: 16 MiB.
  static let chunkSize = 16 << 20

  /// The SHA-256 of the file at `path`, as 64 lowercase hex digits.
  ///
  /// - Throws: ``CheckpointError`` naming the path when the file cannot be opened or mapped.
  package static func sha256(ofFile path: String, progress: ProgressCounter? = nil) throws(CheckpointError)
    -> String
  {
    try digest(ofFile: path, algorithm: .sha256, progress: progress)
  }

  /// The `algorithm` digest of the whole file at `path`, in lowercase hex.
  ///
  /// The file is mapped and fed to the hasher in ``chunkSize`` pieces; the pages of each piece
  /// are released once hashed, so memory stays bounded by a chunk whatever the file's size.
  ///
  /// - Throws: ``CheckpointError`` naming the path when the file cannot be opened or mapped, or
  ///   (`notFetched`) when it is a stand-in of a remote file that holds only some of its bytes
  ///   (``PresentBytes``).
  package static func digest(
    ofFile path: String, algorithm: FileDigestAlgorithm, progress: ProgressCounter? = nil
  ) throws(CheckpointError) -> String {
    if let record = try PresentBytes.of(path), !record.isComplete {
      throw PresentBytes.absentError(path: path, offset: 0, length: Int(clamping: record.size), tensor: nil)
    }
    let file = try MappedFile(path: path)
    file.adviseSequential()
    switch algorithm {
    case .sha256:
      var hasher = try SHA256Hasher(for: path)
      forEachChunk(of: file, progress: progress) { hasher.update($0) }
      return hasher.finalizeHex()
    case .xxh3:
      var hasher = XXH3Hasher()
      forEachChunk(of: file, progress: progress) { hasher.update($0) }
      return hasher.finalizeHex()
    }
  }

  /// Calls `body` with consecutive ``chunkSize`` pieces of `file`, releasing each one's pages
  /// afterwards and reporting its bytes to `progress`.
  private static func forEachChunk(
    of file: MappedFile, progress: ProgressCounter?, _ body: (UnsafeRawBufferPointer) -> Void
  ) {
    var start = 0
    while start < file.count {
      let stop = min(file.count, start + chunkSize)
      body(UnsafeRawBufferPointer(rebasing: file.bytes[start..<stop]))
      PageRelease.release(offset: start, length: stop - start, in: file)
      progress?.advance(by: stop - start)
      start = stop
    }
  }

  /// The XXH3-128 of one tensor's dense little-endian bytes, in canonical hex (for an
  /// expanded view, of its view and stored bytes: ``TensorReader/digestPrefix(of:)``).
  ///
  /// - Throws: ``CheckpointError`` naming the file and tensor when its bytes cannot be read.
  package static func xxh3(
    of tensor: TensorInfo, reader: TensorReader, progress: ProgressCounter? = nil
  ) throws(CheckpointError) -> String {
    var hasher = XXH3Hasher()
    TensorReader.digestPrefix(of: tensor).withUnsafeBytes { hasher.update($0) }
    do {
      try reader.forEachValueChunk(of: tensor, maxChunk: chunkSize) {
        hasher.update($0)
        progress?.advance(by: $0.count)
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
    }
    return hasher.finalizeHex()
  }

  /// The `algorithm` digest (SHA-256 unless asked otherwise) of every file in `paths`, hashed
  /// concurrently, the largest files first; keyed by path.
  package static func fileDigests(
    _ paths: [String], algorithm: FileDigestAlgorithm = .sha256, progress: ProgressCounter? = nil
  ) throws(CheckpointError) -> [String: String] {
    let unique = Array(Set(paths))
    let sizes = unique.map(fileSize)
    let digests = try ConcurrentWork.map(count: unique.count, cost: { sizes[$0] }) {
      (index) throws(CheckpointError) -> String in
      try digest(ofFile: unique[index], algorithm: algorithm, progress: progress)
    }
    return Dictionary(uniqueKeysWithValues: zip(unique, digests))
  }

  /// XXH3-128 of every tensor of `checkpoint`, hashed concurrently; keyed by tensor name.
  package static func tensorDigests(
    _ checkpoint: Checkpoint, reader: TensorReader, progress: ProgressCounter? = nil
  ) throws(CheckpointError) -> [String: String] {
    let tensors = checkpoint.tensors
    let digests = try ConcurrentWork.map(count: tensors.count, cost: { tensors[$0].byteCount }) {
      (index) throws(CheckpointError) -> String in
      try xxh3(of: tensors[index], reader: reader, progress: progress)
    }
    return Dictionary(zip(tensors.map(\.name), digests), uniquingKeysWith: { first, _ in first })
  }

  /// The size of the regular file at `path` (0 when it is not one).
  package static func fileSize(_ path: String) -> Int {
    max(0, FileSystem.size(of: path))
  }
}

