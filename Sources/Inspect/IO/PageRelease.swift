import Platform

/// Drops the pages of a read-only file mapping that a reader has finished with.
///
/// Reading a mapped file makes its pages resident in the process, so without this the resident
/// size of a convert, hash, verify or diff would grow to the size of the checkpoints read. The mappings are private and never
/// written, so dropping their pages loses nothing: the data stays in the kernel's page cache, and
/// a later access (another thread reading a neighbouring tensor that shares a page) faults it
/// back in. Resident memory then stays bounded by the chunks being compared.
package enum PageRelease {
  /// The system page size.
  package static let pageSize = System.pageSize

  /// Releases the pages under `bytes` when `bytes` lies inside `file`'s mapping (a gathered
  /// copy of a strided tensor does not, and is left alone).
  package static func release(_ bytes: UnsafeRawBufferPointer, in file: MappedFile) {
    guard let start = bytes.baseAddress, let base = file.bytes.baseAddress, !bytes.isEmpty else { return }
    let offset = start - base
    guard offset >= 0, offset <= file.count, bytes.count <= file.count - offset else { return }
    release(offset: offset, length: bytes.count, in: file)
  }

  /// Releases the pages covering `length` bytes at `offset` of `file` (clipped to the file).
  package static func release(offset: Int, length: Int, in file: MappedFile) {
    guard let base = file.bytes.baseAddress, offset >= 0, length > 0, offset < file.count else { return }
    let end = min(file.count, offset + min(length, file.count - offset))
    let first = offset / pageSize * pageSize
    let last = min(file.count, (end + pageSize - 1) / pageSize * pageSize)
    guard last > first else { return }
    _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
  }

  /// Releases every page that holds `tensor`'s bytes (its storage, for a strided view).
  package static func release(_ tensor: TensorInfo, reader: TensorReader) {
    guard let file = try? reader.mapping(for: tensor.file) else { return }
    switch tensor.layout {
    case .contiguous(let offset, let length):
      release(offset: offset, length: length, in: file)
    case .strided(let storageOffset, let storageLength, _, _, _):
      release(offset: storageOffset, length: storageLength, in: file)
    }
  }
}
