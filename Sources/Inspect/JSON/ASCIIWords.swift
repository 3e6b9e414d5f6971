/// Tests on eight bytes at a time, for the JSON parser's and writer's string scans and the
/// terminal escaping check.
enum ASCIIWords {
  /// Whether some byte of `word` is `byte`.
  @inline(__always)
  static func hasByte(_ byte: UInt8, in word: UInt64) -> Bool {
    byteMask(byte, in: word) != 0
  }

  /// Whether some byte of `word` is below `limit` (at most 0x80).
  @inline(__always)
  static func hasByte(below limit: UInt8, in word: UInt64) -> Bool {
    byteMask(below: limit, in: word) != 0
  }

  /// The high bit of each byte of `word` that is `byte`, and possibly of bytes above such a
  /// one (in significance); 0 exactly when no byte is `byte`.
  @inline(__always)
  static func byteMask(_ byte: UInt8, in word: UInt64) -> UInt64 {
    byteMask(below: 1, in: word ^ (UInt64(byte) &* 0x0101_0101_0101_0101))
  }

  /// The high bit of each byte of `word` below `limit` (at most 0x80), and possibly of bytes
  /// above such a one (in significance): 0 exactly when no byte is, and the lowest bit set
  /// marks the least significant byte that is.
  @inline(__always)
  static func byteMask(below limit: UInt8, in word: UInt64) -> UInt64 {
    (word &- UInt64(limit) &* 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
  }

  /// Whether every byte of `word` is printable ASCII (0x20–0x7E): none has its top bit, none is
  /// below 0x20, none is 0x7F.
  @inline(__always)
  static func isPrintable(_ word: UInt64) -> Bool {
    word & 0x8080_8080_8080_8080 == 0 && !hasByte(below: 0x20, in: word) && !hasByte(0x7F, in: word)
  }

  /// Whether every byte of `bytes` is printable ASCII (0x20–0x7E) other than `"` and `\`:
  /// text that JSON writes as it is.
  static func isPrintableWithoutQuoteOrBackslash(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    func plain(at offset: Int) -> Bool {
      let word = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      return isPrintable(word) && !hasByte(0x22, in: word) && !hasByte(0x5C, in: word)
    }
    var offset = 0
    while bytes.count - offset >= 8 {
      guard plain(at: offset) else { return false }
      offset += 8
    }
    // The last few bytes: as the word that ends with them, when there is one.
    if offset < bytes.count, bytes.count >= 8 { return plain(at: bytes.count - 8) }
    while offset < bytes.count {
      let byte = bytes[offset]
      if byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C { return false }
      offset += 1
    }
    return true
  }
}
