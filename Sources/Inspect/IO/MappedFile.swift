#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-only, private memory mapping of a whole file, unmapped when the last reference goes.
///
/// The mapping is immutable, so sharing it between threads is safe. An empty file has an empty
/// buffer and no mapping.
public final class MappedFile: @unchecked Sendable {
  /// The path that was mapped.
  public let path: String
  /// The file's bytes.
  public let bytes: UnsafeRawBufferPointer

  private let mappingBase: UnsafeMutableRawPointer?
  private let mappingLength: Int

  /// Maps `path` read-only.
  ///
  /// - Throws: ``CheckpointError`` of kind `.io` or `.notFound` naming the path.
  public init(path: String) throws(CheckpointError) {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      let code = errno
      throw CheckpointError(
        code == ENOENT ? .notFound : .io, file: path,
        reason: "cannot open: \(String(cString: strerror(code)))")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw CheckpointError(.io, file: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw CheckpointError(.io, file: path, reason: "not a regular file")
    }
    let length = Int(info.st_size)
    guard length > 0 else {
      mappingBase = nil
      mappingLength = 0
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let base, base != MAP_FAILED else {
      throw CheckpointError(.io, file: path, reason: "cannot map: \(String(cString: strerror(errno)))")
    }
    mappingBase = base
    mappingLength = length
    bytes = UnsafeRawBufferPointer(start: base, count: length)
  }

  /// Tells the kernel the mapping will be read front to back (more read-ahead).
  public func adviseSequential() {
    if let mappingBase { _ = madvise(mappingBase, mappingLength, MADV_SEQUENTIAL) }
  }

  /// The file's size in bytes.
  public var count: Int { bytes.count }

  deinit {
    if let mappingBase { munmap(mappingBase, mappingLength) }
  }
}
