import CWriteback
import Dispatch
import Inspect
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A new file being written: buffered, SHA-256 computed on the way, fsynced on close.
///
/// Writing is a two-stage pipeline. The caller's thread copies bytes into one of a small ring of
/// buffers; a serial background queue hashes each full buffer (SHA-256) and writes it with
/// `write(2)`. So hashing and the kernel's copy run on another core while the caller reads,
/// casts and hashes the next chunk. Memory is bounded by the ring (``bufferCount`` ×
/// ``bufferSize``), and the bytes and digest are exactly those of a sequential write.
///
/// Every failure is a ``CheckpointError`` of kind `.io` naming the file (by `displayName`) and
/// the operating-system reason (for example `File too large` when a file-size limit is hit).
/// A write error is reported by the first ``write(_:)-`` or ``finish()`` call after it happens.
final class FileSink {
  /// The size of one buffer of the ring: 4 MiB.
  static let bufferSize = 4 << 20
  /// The number of buffers: one being filled, the rest queued for hashing and writing.
  static let bufferCount = 4

  let path: String
  let displayName: String
  /// Bytes accepted so far.
  private(set) var size = 0

  private let stage: WriteStage
  private let queue = DispatchQueue(label: "speculators.file-sink")
  /// Counts free buffers other than the one being filled. Created at 0 and signalled up, so
  /// that it is never disposed of below its initial value (which libdispatch treats as a bug).
  private let freeBuffers = DispatchSemaphore(value: 0)
  private let storage: UnsafeMutableRawPointer
  private var current = 0
  private var filled = 0
  private var closed = false

  /// Creates `path`, which must not exist.
  init(path: String, displayName: String) throws(CheckpointError) {
    self.path = path
    self.displayName = displayName
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw CheckpointError(
        .io, file: displayName, reason: "cannot create: \(String(cString: strerror(errno)))")
    }
    stage = WriteStage(descriptor: fd, displayName: displayName)
    storage = UnsafeMutableRawPointer.allocate(
      byteCount: Self.bufferSize * Self.bufferCount, alignment: 4096)
    for _ in 1..<Self.bufferCount { freeBuffers.signal() }
  }

  deinit {
    // Let queued buffers finish before their storage goes away.
    queue.sync {}
    stage.close()
    storage.deallocate()
  }

  /// Appends bytes.
  func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let take = min(bytes.count - offset, Self.bufferSize - filled)
      (storage + current * Self.bufferSize + filled).copyMemory(from: base + offset, byteCount: take)
      filled += take
      offset += take
      size += take
      if filled == Self.bufferSize {
        submit()
        freeBuffers.wait()
        if let error = stage.failure { throw error }
      }
    }
  }

  /// Appends the bytes of an array.
  func write(_ bytes: [UInt8]) throws(CheckpointError) {
    try withBytes(of: bytes) { raw throws(CheckpointError) in try write(raw) }
  }

  /// Flushes, fsyncs and closes; returns the file's SHA-256.
  func finish() throws(CheckpointError) -> String {
    guard !closed else { throw CheckpointError(.io, file: displayName, reason: "file finished twice") }
    closed = true
    if filled > 0 { submit() }
    queue.sync {}
    return try stage.finish()
  }

  /// Hands the current buffer to the background stage and moves on to the next one.
  private func submit() {
    let buffer = UnsafeRawBufferPointer(start: storage + current * Self.bufferSize, count: filled)
    let stage = self.stage
    let freeBuffers = self.freeBuffers
    let handoff = BufferHandoff(bytes: buffer)
    queue.async {
      stage.consume(handoff.bytes)
      freeBuffers.signal()
    }
    current = (current + 1) % Self.bufferCount
    filled = 0
  }
}

/// A buffer passed to the background stage; the ring guarantees nobody writes it meanwhile.
private struct BufferHandoff: @unchecked Sendable {
  let bytes: UnsafeRawBufferPointer
}

/// The background half of a ``FileSink``: hashes and writes buffers, in order, on one queue.
///
/// Its mutable state is touched only by blocks of the sink's serial queue, or by the sink after
/// draining that queue; the first error is kept behind a mutex so the caller can poll it.
private final class WriteStage: @unchecked Sendable {
  private var descriptor: Int32
  private let displayName: String
  /// Bytes written to the file so far.
  private var written = 0
  private var hasher: SHA256Hasher? = SHA256Hasher()
  private let error = Mutex<CheckpointError?>(nil)

  init(descriptor: Int32, displayName: String) {
    self.descriptor = descriptor
    self.displayName = displayName
  }

  /// The first write error, if any.
  var failure: CheckpointError? { error.withLock { $0 } }

  func consume(_ bytes: UnsafeRawBufferPointer) {
    guard failure == nil, descriptor >= 0 else { return }
    hasher?.update(bytes)
    do throws(CheckpointError) {
      try writeAll(bytes)
      startWriteback(length: bytes.count)
    } catch {
      self.error.withLock { if $0 == nil { $0 = error } }
    }
  }

  /// Asks the kernel to start writing the bytes just written to disk (Linux), so the disk works
  /// while the next buffers are produced and the final `fsync` has little left to wait for.
  /// Only a hint: errors are ignored here and surface at `fsync`.
  private func startWriteback(length: Int) {
    _ = speculators_start_writeback(descriptor, Int64(written), Int64(length))
    written += length
  }

  func finish() throws(CheckpointError) -> String {
    if let failure { throw failure }
    guard fsync(descriptor) == 0 else {
      throw CheckpointError(
        .io, file: displayName, reason: "cannot sync: \(String(cString: strerror(errno)))")
    }
    let result = systemClose(descriptor)
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

  func close() {
    if descriptor >= 0 { _ = systemClose(descriptor) }
    descriptor = -1
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

/// `close(2)`, named apart from ``WriteStage/close()``.
private func systemClose(_ fd: Int32) -> Int32 {
  close(fd)
}
