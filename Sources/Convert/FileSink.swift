import Inspect

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A new file being written: buffered, SHA-256 computed on the way, fsynced on close.
///
/// Memory is bounded by the buffer. Every failure is a ``CheckpointError`` of kind `.io` naming
/// the file (by `displayName`) and the operating-system reason (for example `File too large`
/// when a file-size limit is hit).
final class FileSink {
  /// The buffer size: 1 MiB.
  static let bufferSize = 1 << 20

  let path: String
  let displayName: String
  private var descriptor: Int32
  private var buffer: [UInt8] = []
  private var hasher: SHA256Hasher? = SHA256Hasher()
  /// Bytes accepted so far.
  private(set) var size = 0

  /// Creates `path`, which must not exist.
  init(path: String, displayName: String) throws(CheckpointError) {
    self.path = path
    self.displayName = displayName
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw CheckpointError(
        .io, file: displayName, reason: "cannot create: \(String(cString: strerror(errno)))")
    }
    descriptor = fd
    buffer.reserveCapacity(Self.bufferSize)
  }

  deinit {
    if descriptor >= 0 { close(descriptor) }
  }

  /// Appends bytes.
  func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
    hasher?.update(bytes)
    size += bytes.count
    if buffer.count + bytes.count > Self.bufferSize {
      try flush()
    }
    if bytes.count >= Self.bufferSize {
      try writeAll(bytes)
    } else {
      buffer.append(contentsOf: bytes)
    }
  }

  /// Appends the bytes of an array.
  func write(_ bytes: [UInt8]) throws(CheckpointError) {
    try withBytes(of: bytes) { raw throws(CheckpointError) in try write(raw) }
  }

  /// Flushes, fsyncs and closes; returns the file's SHA-256.
  func finish() throws(CheckpointError) -> String {
    try flush()
    guard fsync(descriptor) == 0 else {
      throw CheckpointError(
        .io, file: displayName, reason: "cannot sync: \(String(cString: strerror(errno)))")
    }
    let result = close(descriptor)
    descriptor = -1
    guard result == 0 else {
      throw CheckpointError(
        .io, file: displayName, reason: "cannot close: \(String(cString: strerror(errno)))")
    }
    guard let finished = hasher.take() else {
      throw CheckpointError(.io, file: displayName, reason: "file finished twice")
    }
    return finished.finalizeHex()
  }

  private func flush() throws(CheckpointError) {
    guard !buffer.isEmpty else { return }
    defer { buffer.removeAll(keepingCapacity: true) }
    try withBytes(of: buffer) { raw throws(CheckpointError) in try writeAll(raw) }
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let written = systemWrite(descriptor, base + offset, bytes.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        throw CheckpointError(
          .io, file: displayName, reason: "cannot write: \(String(cString: strerror(errno)))")
      }
      if written == 0 {
        throw CheckpointError(.io, file: displayName, reason: "cannot write: no progress (disk full?)")
      }
      offset += written
    }
  }
}

/// `write(2)`, named apart from ``FileSink/write(_:)-`` so the call is unambiguous on every platform.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, bytes, count)
}
