import CFaultGuard
import Platform

/// A read-only, private memory mapping of a whole file, unmapped when the last reference goes.
///
/// The mapping is immutable, so sharing it between threads is safe. An empty file has an empty
/// buffer and no mapping.
package final class MappedFile: @unchecked Sendable {
  /// The path that was mapped.
  package let path: String
  /// The file's bytes.
  package let bytes: UnsafeRawBufferPointer

  private let mappingBase: UnsafeMutableRawPointer?
  private let mappingLength: Int
  /// The fault-guard slot of the mapping (``FaultGuard``), or -1.
  private let guardSlot: Int32

  /// Maps `path` read-only.
  ///
  /// - Throws: ``CheckpointError`` of kind `.io` or `.notFound` naming the path.
  package init(path: String) throws(CheckpointError) {
    self.path = path
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused below as not a
    // regular file); the flag changes nothing for regular files.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else {
      let code = errno
      throw CheckpointError(
        code == ENOENT ? .notFound : .io, file: path,
        reason: "cannot open: \(System.message(code))")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw CheckpointError(.io, file: path, reason: "cannot stat: \(System.message())")
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw CheckpointError(.io, file: path, reason: "not a regular file")
    }
    let length = Int(info.st_size)
    guard length > 0 else {
      mappingBase = nil
      mappingLength = 0
      guardSlot = -1
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let base, base != MAP_FAILED else {
      throw CheckpointError(.io, file: path, reason: "cannot map: \(System.message())")
    }
    mappingBase = base
    mappingLength = length
    // A file truncated while mapped raises SIGBUS on the lost pages: the guard turns that into
    // a one-line error naming the file (see FaultGuard).
    guardSlot = speculators_fault_guard_register(base, length, path)
    bytes = UnsafeRawBufferPointer(start: base, count: length)
  }

  /// Wraps bytes the caller owns, without copying or mapping anything (fuzz targets and tests
  /// hand parsers their input this way, so AddressSanitizer sees the input's exact bounds).
  ///
  /// The caller must keep `bytes` alive and unchanged for the lifetime of the instance.
  init(unownedBytes bytes: UnsafeRawBufferPointer, path: String) {
    self.path = path
    self.bytes = bytes
    mappingBase = nil
    mappingLength = 0
    guardSlot = -1
  }

  /// Tells the kernel the mapping will be read front to back (more read-ahead).
  package func adviseSequential() {
    if let mappingBase { _ = madvise(mappingBase, mappingLength, MADV_SEQUENTIAL) }
  }

  /// The file's size in bytes.
  package var count: Int { bytes.count }

  deinit {
    speculators_fault_guard_unregister(guardSlot)
    if let mappingBase { munmap(mappingBase, mappingLength) }
  }
}
