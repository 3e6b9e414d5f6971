/// Bounds-checked, explicit-endianness reads over a byte buffer.
///
/// Every read checks that the requested range lies inside the buffer and throws a
/// ``CheckpointError`` naming the file and the absolute offset when it does not. Reads copy
/// bytes, so unaligned positions are fine.
package struct ByteReader {
  /// The bytes being read.
  package let bytes: UnsafeRawBufferPointer
  /// The file name used in errors.
  package let file: String
  /// Added to positions when reporting offsets (the buffer's offset within the file).
  package let baseOffset: UInt64
  /// The next position to read.
  package var position: Int = 0

  /// Creates a reader over `bytes`, reporting offsets relative to `baseOffset`.
  package init(_ bytes: UnsafeRawBufferPointer, file: String, baseOffset: UInt64 = 0) {
    self.bytes = bytes
    self.file = file
    self.baseOffset = baseOffset
  }

  /// Bytes left after ``position``.
  package var remaining: Int { bytes.count - position }

  /// An error at `offset` (a position in this buffer) with `reason`.
  package func error(
    _ kind: CheckpointError.Kind = .malformed, at offset: Int? = nil, _ reason: String
  ) -> CheckpointError {
    CheckpointError(kind, file: file, offset: baseOffset + UInt64(max(0, offset ?? position)), reason: reason)
  }

  /// Checks that `count` bytes starting at `offset` are inside the buffer.
  package func checkRange(_ offset: Int, _ count: Int, what: String) throws(CheckpointError) {
    guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
      throw error(at: offset, "\(what) (\(count) bytes) runs past the end of the data")
    }
  }

  /// Reads a little-endian integer at `offset` without moving ``position``.
  package func littleEndian<T: FixedWidthInteger>(
    _ type: T.Type, at offset: Int, what: String = "integer"
  ) throws(CheckpointError) -> T {
    try checkRange(offset, MemoryLayout<T>.size, what: what)
    var value: T = 0
    withUnsafeMutableBytes(of: &value) { destination in
      destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size]))
    }
    return T(littleEndian: value)
  }

  /// Reads a big-endian integer at `offset` without moving ``position``.
  package func bigEndian<T: FixedWidthInteger>(
    _ type: T.Type, at offset: Int, what: String = "integer"
  ) throws(CheckpointError) -> T {
    try checkRange(offset, MemoryLayout<T>.size, what: what)
    var value: T = 0
    withUnsafeMutableBytes(of: &value) { destination in
      destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size]))
    }
    return T(bigEndian: value)
  }

  /// Reads a little-endian integer at ``position`` and advances past it.
  package mutating func readLittleEndian<T: FixedWidthInteger>(
    _ type: T.Type, what: String = "integer"
  ) throws(CheckpointError) -> T {
    let value = try littleEndian(type, at: position, what: what)
    position += MemoryLayout<T>.size
    return value
  }

  /// Reads one byte at ``position`` and advances.
  package mutating func readByte(what: String = "byte") throws(CheckpointError) -> UInt8 {
    try checkRange(position, 1, what: what)
    defer { position += 1 }
    return bytes[position]
  }

  /// Returns a view of `count` bytes at ``position`` and advances past them.
  package mutating func readSlice(_ count: Int, what: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
    try checkRange(position, count, what: what)
    defer { position += count }
    return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
  }

  /// A view of `count` bytes at `offset`.
  package func slice(at offset: Int, count: Int, what: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
    try checkRange(offset, count, what: what)
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
  }
}
