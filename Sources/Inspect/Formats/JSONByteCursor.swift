/// A position in raw JSON bytes with the few primitives the fast header and index scanners
/// need. Every primitive either succeeds or reports failure without moving past the problem;
/// scanners give up (and let ``StrictJSONParser`` decide) on the first failure.
struct JSONByteCursor {
  let bytes: UnsafeRawBufferPointer
  var position = 0

  init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  var atEnd: Bool { position == bytes.count }

  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  /// Consumes `byte` if it is next.
  mutating func consume(_ byte: UInt8) -> Bool {
    guard position < bytes.count, bytes[position] == byte else { return false }
    position += 1
    return true
  }

  /// Consumes the literal `null` if it is next.
  mutating func consumeNull() -> Bool {
    guard bytes.count - position >= 4, bytes[position] == 0x6E, bytes[position + 1] == 0x75,
      bytes[position + 2] == 0x6C, bytes[position + 3] == 0x6C
    else { return false }
    position += 4
    return true
  }

  /// A string without escapes or control characters. With `validateUTF8` false the caller
  /// guarantees the bytes are valid UTF-8 already.
  mutating func scanPlainString(validateUTF8: Bool) -> String? {
    guard consume(0x22) else { return nil }
    let start = position
    var highBits: UInt8 = 0
    // Eight bytes at a time while none is a quote, a backslash or a control character (most
    // of a name), then byte by byte.
    if let base = bytes.baseAddress {
      var wordHighBits: UInt64 = 0
      while position + 8 <= bytes.count {
        let word = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        guard !Self.hasByte(0x22, in: word), !Self.hasByte(0x5C, in: word), !Self.hasByteBelow0x20(word)
        else { break }
        wordHighBits |= word
        position += 8
      }
      if wordHighBits & 0x8080_8080_8080_8080 != 0 { highBits = 0x80 }
    }
    while position < bytes.count {
      let byte = bytes[position]
      if byte == 0x22 {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        // ASCII is valid UTF-8: only other bytes need the (slower, generic) validating init.
        let text =
          validateUTF8 && highBits >= 0x80
          ? String(validating: slice, as: UTF8.self) : String(decoding: slice, as: UTF8.self)
        position += 1
        lastStringWasASCII = highBits < 0x80
        return text
      }
      if byte == 0x5C || byte < 0x20 { return nil }
      highBits |= byte
      position += 1
    }
    return nil
  }

  /// Whether the last string ``scanPlainString(validateUTF8:)`` returned was all ASCII.
  private(set) var lastStringWasASCII = false

  /// Whether some byte of `word` is `byte`.
  private static func hasByte(_ byte: UInt8, in word: UInt64) -> Bool {
    let spread = UInt64(byte) &* 0x0101_0101_0101_0101
    return hasByteBelow(1, in: word ^ spread)
  }

  /// Whether some byte of `word` is below 0x20.
  private static func hasByteBelow0x20(_ word: UInt64) -> Bool {
    hasByteBelow(0x20, in: word)
  }

  /// Whether some byte of `word` is below `limit` (at most 0x80): the borrow trick, exact for
  /// whether any byte is.
  private static func hasByteBelow(_ limit: UInt8, in word: UInt64) -> Bool {
    (word &- UInt64(limit) &* 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0
  }

  /// Consumes the string literal `"text"` (no escapes) if it is next, byte for byte.
  mutating func consumePlainString(equalTo text: String) -> Bool {
    let matched = text.utf8.withContiguousStorageIfAvailable { consumeQuoted(UnsafeRawBufferPointer($0)) }
    if let matched { return matched }
    return Array(text.utf8).withUnsafeBytes { consumeQuoted($0) }
  }

  /// Consumes the string literal `"text"` if it is next, byte for byte.
  mutating func consumePlainString(equalTo text: StaticString) -> Bool {
    text.withUTF8Buffer { consumeQuoted(UnsafeRawBufferPointer($0)) }
  }

  /// Consumes `"` + `expected` + `"` if those bytes are next.
  private mutating func consumeQuoted(_ expected: UnsafeRawBufferPointer) -> Bool {
    let end = position + expected.count + 2
    guard end <= bytes.count, bytes[position] == 0x22, bytes[end - 1] == 0x22 else { return false }
    // A plain loop: the generic elementsEqual was a visible cost at one call per tensor field.
    for offset in 0..<expected.count where bytes[position + 1 + offset] != expected[offset] { return false }
    position = end
    return true
  }

  /// The bytes of a string without escapes or control characters, without making a `String`
  /// (the caller matches them against known spellings).
  mutating func scanPlainStringBytes() -> UnsafeRawBufferPointer? {
    guard consume(0x22) else { return nil }
    let start = position
    while position < bytes.count {
      let byte = bytes[position]
      if byte == 0x22 {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        position += 1
        return slice
      }
      if byte == 0x5C || byte < 0x20 { return nil }
      position += 1
    }
    return nil
  }

  /// A non-negative integer literal without leading zeros, fraction or exponent, fitting `Int`.
  mutating func scanNonNegativeInteger() -> Int? {
    let start = position
    var value = 0
    while position < bytes.count {
      let byte = bytes[position]
      guard byte >= 0x30, byte <= 0x39 else { break }
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(Int(byte - 0x30))
      guard !o1, !o2 else { return nil }
      value = sum
      position += 1
    }
    let length = position - start
    guard length > 0, length == 1 || bytes[start] != 0x30 else { return nil }
    if position < bytes.count, bytes[position] == 0x2E || bytes[position] == 0x65 || bytes[position] == 0x45 {
      return nil
    }
    return value
  }

  /// Skips one JSON value of any kind without interpreting it, returning the byte range it
  /// spans, or `nil` when it is unterminated or nests deeper than `maximumDepth`. The value is
  /// not validated: callers parse the range strictly afterwards.
  mutating func skipValue(maximumDepth: Int) -> Range<Int>? {
    let start = position
    var depth = 0
    while position < bytes.count {
      let byte = bytes[position]
      switch byte {
      case 0x22:
        position += 1
        var escaped = false
        while position < bytes.count {
          let inner = bytes[position]
          position += 1
          if escaped { escaped = false } else if inner == 0x5C { escaped = true } else if inner == 0x22 { break }
        }
        if depth == 0 { return start..<position }
        continue
      case 0x7B, 0x5B:
        depth += 1
        guard depth <= maximumDepth else { return nil }
      case 0x7D, 0x5D:
        if depth == 0 { return start < position ? start..<position : nil }
        depth -= 1
        if depth == 0 {
          position += 1
          return start..<position
        }
      case 0x2C:
        if depth == 0 { return start < position ? start..<position : nil }
      case 0x20, 0x09, 0x0A, 0x0D:
        if depth == 0 { return start < position ? start..<position : nil }
      default:
        break
      }
      position += 1
    }
    return depth == 0 && start < position ? start..<position : nil
  }
}
