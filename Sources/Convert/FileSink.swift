import CWriteback
import Dispatch
import Inspect
import Platform
import Synchronization

/// A new file being written: buffered, SHA-256 computed on the way, fsynced on close.
///
/// Writing is a pipeline. The caller's thread copies bytes into one of a small ring of buffers;
/// each full buffer goes to two serial background queues at once, one hashing it (SHA-256) and
/// one writing it with `write(2)`; it is reused when both are done. So hashing and the device
/// work in parallel with each other and with the caller reading, casting and hashing the next
/// chunk. Memory is bounded by the ring (``bufferCount`` × ``bufferSize``), and the bytes and
/// digest are exactly those of a sequential write (each queue takes buffers in order).
///
/// Since the file is fsynced anyway, full buffers are written with direct I/O where the file
/// system allows it (Linux `O_DIRECT`; the buffers are page-aligned and a multiple of the block
/// size): the device reads them from our buffer, so the kernel neither copies them into the page
/// cache nor writes them back later, which on a large checkpoint was most of the system time.
/// The unaligned tail of the last buffer is written through the page cache; where direct I/O is
/// refused, every write is.
///
/// Every failure is a ``ConversionError`` of kind `.write` naming the file (by `displayName`) and
/// the operating-system reason (for example `File too large` when a file-size limit is hit).
/// A write error is reported by the first ``write(_:)-`` or ``finish()`` call after it happens.
final class FileSink {
  /// The size of one buffer of the ring: 4 MiB.
  static let bufferSize = 4 << 20
  /// The number of buffers: one being filled, the rest queued for hashing and writing.
  static let bufferCount = 6

  let path: String
  let displayName: String
  /// Bytes accepted so far.
  private(set) var size = 0

  private let stage: WriteStage
  private let hashQueue = DispatchQueue(label: "speculators.file-sink.hash")
  private let writeQueue = DispatchQueue(label: "speculators.file-sink.write")
  /// Counts free buffers other than the one being filled. Created at 0 and signalled up, so
  /// that it is never disposed of below its initial value (which libdispatch treats as a bug).
  private let freeBuffers = DispatchSemaphore(value: 0)
  private let storage: UnsafeMutableRawPointer
  private var current = 0
  private var filled = 0
  private var closed = false

  /// Creates `path`, which must not exist.
  init(path: String, displayName: String) throws(ConversionError) {
    self.path = path
    self.displayName = displayName
    let hasher: SHA256Hasher
    do {
      hasher = try SHA256Hasher()
    } catch {
      throw ConversionError(.write, file: displayName, reason: error.description)
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw ConversionError(
        .write, file: displayName, reason: "cannot create: \(System.message())")
    }
    stage = WriteStage(descriptor: fd, displayName: displayName, hasher: hasher)
    // Aligned for direct I/O, and to huge pages so that pinning a buffer for a direct write
    // touches a few page-table entries rather than a thousand.
    storage = UnsafeMutableRawPointer.allocate(
      byteCount: Self.bufferSize * Self.bufferCount, alignment: 2 << 20)
    System.adviseHugePages(storage, count: Self.bufferSize * Self.bufferCount)
    for _ in 1..<Self.bufferCount { freeBuffers.signal() }
  }

  deinit {
    // Let queued buffers finish before their storage goes away.
    hashQueue.sync {}
    writeQueue.sync {}
    stage.close()
    storage.deallocate()
  }

  /// Appends bytes.
  func write(_ bytes: UnsafeRawBufferPointer) throws(ConversionError) {
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
  func write(_ bytes: [UInt8]) throws(ConversionError) {
    try withBytes(of: bytes) { raw throws(ConversionError) in try write(raw) }
  }

  /// Flushes, fsyncs and closes; returns the file's SHA-256.
  func finish() throws(ConversionError) -> String {
    guard !closed else { throw ConversionError(.write, file: displayName, reason: "file finished twice") }
    closed = true
    if filled > 0 { submit() }
    hashQueue.sync {}
    writeQueue.sync {}
    return try stage.finish()
  }

  /// Hands the current buffer to the background stage and moves on to the next one.
  private func submit() {
    let buffer = UnsafeRawBufferPointer(start: storage + current * Self.bufferSize, count: filled)
    let stage = self.stage
    let freeBuffers = self.freeBuffers
    let handoff = BufferHandoff(bytes: buffer)
    hashQueue.async {
      stage.hash(handoff.bytes)
      handoff.release(to: freeBuffers)
    }
    writeQueue.async {
      stage.write(handoff.bytes)
      handoff.release(to: freeBuffers)
    }
    current = (current + 1) % Self.bufferCount
    filled = 0
  }
}

/// A buffer passed to the two background queues; the ring guarantees nobody writes it
/// meanwhile. The second queue to finish with it returns it to the ring.
private final class BufferHandoff: @unchecked Sendable {
  let bytes: UnsafeRawBufferPointer
  private let users = Atomic<Int>(2)

  init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  /// Called by each queue when done with the buffer; the last one signals `freeBuffers`.
  func release(to freeBuffers: DispatchSemaphore) {
    if users.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
      freeBuffers.signal()
    }
  }
}

/// The background half of a ``FileSink``: hashes buffers in order on one queue and writes them in
/// order on another.
///
/// The hasher is touched only by blocks of the hash queue, the descriptor and write state only
/// by blocks of the write queue, and both by the sink after draining the queues; the first error
/// is kept behind a mutex so the caller can poll it.
private final class WriteStage: @unchecked Sendable {
  private var descriptor: Int32
  private let displayName: String
  /// Bytes written to the file so far.
  private var written = 0
  private var hasher: SHA256Hasher?
  private let error = Mutex<ConversionError?>(nil)

  /// Whether writes currently bypass the page cache.
  private var direct: Bool
  /// The size direct writes are a multiple of (and the buffers are aligned to).
  private static let directBlock = 4096

  init(descriptor: Int32, displayName: String, hasher: consuming SHA256Hasher) {
    self.descriptor = descriptor
    self.displayName = displayName
    self.hasher = consume hasher
    direct = speculators_set_direct_io(descriptor, 1) == 0
  }

  /// The first write error, if any.
  var failure: ConversionError? { error.withLock { $0 } }

  /// Adds a buffer to the file's SHA-256 (hash queue).
  func hash(_ bytes: UnsafeRawBufferPointer) {
    hasher?.update(bytes)
  }

  /// Writes a buffer at the end of the file (write queue).
  func write(_ bytes: UnsafeRawBufferPointer) {
    guard failure == nil, descriptor >= 0 else { return }
    do throws(ConversionError) {
      let aligned = direct ? bytes.count - bytes.count % Self.directBlock : 0
      if aligned > 0 {
        try writeDirect(UnsafeRawBufferPointer(rebasing: bytes[0..<aligned]))
      }
      if aligned < bytes.count {
        try writeBuffered(UnsafeRawBufferPointer(rebasing: bytes[aligned...]))
      }
    } catch {
      self.error.withLock { if $0 == nil { $0 = error } }
    }
  }

  /// Writes block-aligned bytes with direct I/O. When the file system refuses it after all
  /// (`EINVAL`), or a write comes back short of a block boundary (a file-size limit, say), the
  /// rest goes through ``writeBuffered(_:)``, which reports any real error.
  private func writeDirect(_ bytes: UnsafeRawBufferPointer) throws(ConversionError) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let count = System.retryingInterrupts { systemWrite(descriptor, base + offset, bytes.count - offset) }
      if count < 0 && errno != EINVAL { throw writeError() }
      guard count > 0 else { break }
      offset += count
      written += count
      if count % Self.directBlock != 0 { break }
    }
    if offset < bytes.count {
      try writeBuffered(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }
  }

  /// Writes through the page cache (turning direct I/O off first), then asks the kernel to start
  /// writing those bytes to disk (Linux), so the disk works while the next buffers are produced
  /// and the final `fsync` has little left to wait for. The writeback request is only a hint:
  /// its errors surface at `fsync`.
  private func writeBuffered(_ bytes: UnsafeRawBufferPointer) throws(ConversionError) {
    if direct {
      direct = false
      _ = speculators_set_direct_io(descriptor, 0)
    }
    try writeAll(bytes)
    _ = speculators_start_writeback(descriptor, Int64(written), Int64(bytes.count))
    written += bytes.count
  }

  func finish() throws(ConversionError) -> String {
    if let failure { throw failure }
    guard fsync(descriptor) == 0 else {
      throw ConversionError(
        .write, file: displayName, reason: "cannot sync: \(System.message())")
    }
    let result = systemClose(descriptor)
    descriptor = -1
    guard result == 0 else {
      throw ConversionError(
        .write, file: displayName, reason: "cannot close: \(System.message())")
    }
    guard let finished = hasher.take() else {
      throw ConversionError(.write, file: displayName, reason: "file finished twice")
    }
    return finished.finalizeHex()
  }

  func close() {
    if descriptor >= 0 { _ = systemClose(descriptor) }
    descriptor = -1
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ConversionError) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let written = System.retryingInterrupts { systemWrite(descriptor, base + offset, bytes.count - offset) }
      if written < 0 { throw writeError() }
      if written == 0 {
        throw ConversionError(.write, file: displayName, reason: "cannot write: no progress (disk full?)")
      }
      offset += written
    }
  }

  /// The error for a failed `write(2)`, naming the file and the system's reason (`errno`).
  private func writeError() -> ConversionError {
    ConversionError(.write, file: displayName, reason: "cannot write: \(System.message())")
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
