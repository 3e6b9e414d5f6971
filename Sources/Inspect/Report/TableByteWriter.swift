/// Where ``TextTable`` writes the bytes of its lines.
protocol TableByteWriter {
  /// Writes one byte.
  mutating func byte(_ byte: UInt8)
  /// Writes `count` spaces (nothing when `count` is not positive).
  mutating func spaces(_ count: Int)
  /// Writes the UTF-8 of `text`.
  mutating func text(_ text: String)
}

/// Writes into an array that grows as needed.
struct GrowingLineWriter: TableByteWriter {
  /// The bytes written.
  private(set) var bytes: [UInt8] = []

  mutating func byte(_ byte: UInt8) { bytes.append(byte) }

  mutating func spaces(_ count: Int) {
    if count > 0 { bytes.append(contentsOf: repeatElement(0x20, count: count)) }
  }

  mutating func text(_ text: String) {
    let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
    if copied == nil { bytes.append(contentsOf: text.utf8) }
  }
}

/// Writes into memory reserved up front, without a capacity or uniqueness check per piece;
/// a write that would not fit sets ``overflowed`` and is dropped (the caller then renders
/// through an array instead).
struct LineWriter: TableByteWriter {
  private let buffer: UnsafeMutableBufferPointer<UInt8>
  /// Bytes written.
  private(set) var count = 0
  /// Whether a write did not fit.
  private(set) var overflowed = false

  /// A writer filling `buffer` from its start.
  init(buffer: UnsafeMutableBufferPointer<UInt8>) {
    self.buffer = buffer
  }

  /// Where `length` more bytes go, or `nil` (and ``overflowed``) when they do not fit.
  private mutating func reserve(_ length: Int) -> UnsafeMutablePointer<UInt8>? {
    guard !overflowed, length <= buffer.count - count, let base = buffer.baseAddress else {
      overflowed = overflowed || length > 0
      return nil
    }
    defer { count += length }
    return base + count
  }

  mutating func byte(_ byte: UInt8) {
    reserve(1)?.initialize(to: byte)
  }

  mutating func spaces(_ count: Int) {
    guard count > 0 else { return }
    reserve(count)?.initialize(repeating: 0x20, count: count)
  }

  mutating func text(_ text: String) {
    let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
      guard let source = bytes.baseAddress, let target = reserve(bytes.count) else { return }
      target.initialize(from: source, count: bytes.count)
    }
    if copied == nil {
      let bytes = Array(text.utf8)
      guard let target = reserve(bytes.count) else { return }
      bytes.withUnsafeBufferPointer { bytes in
        if let source = bytes.baseAddress { target.initialize(from: source, count: bytes.count) }
      }
    }
  }
}
