import Platform

/// The strict JSON parser over raw bytes: the one reader of safetensors headers, shard indexes,
/// `config.json` and every other JSON document the tools read.
///
/// Differences from Foundation's `JSONSerialization` that matter for untrusted checkpoint
/// headers: duplicate keys in an object are an error (not "last one wins"); integers are kept
/// exactly as `Int64` (never routed through `Double`); invalid UTF-8, control characters in
/// strings, trailing garbage and nesting deeper than ``maximumDepth`` are errors; errors carry
/// the byte offset.
///
/// Two ways to use it, with the same rules: ``parse(_:)-(UnsafeRawBufferPointer)`` makes a
/// ``JSONValue`` tree of a whole document, and a decoder that knows the document's shape (a
/// safetensors header of 100,000 entries) walks it in place with ``forEachMember(_:)``,
/// ``forEachElement(_:)``, ``parseValue()`` and ``finish()``, meeting each key with its byte
/// offset and building no tree for what it reads directly.
package struct StrictJSONParser {
  /// A parse failure at a byte offset of the parsed buffer.
  package struct Failure: Error, Sendable, Equatable {
    /// Offset of the offending byte within the parsed bytes.
    package var offset: Int
    /// What was wrong.
    package var reason: String
    /// For a repeated key: the key, decoded.
    package var duplicateKey: String?
    /// For a repeated key: how many arrays and objects enclose it (1 for a key of the root
    /// object).
    package var depth = 0

    package init(offset: Int, reason: String, duplicateKey: String? = nil, depth: Int = 0) {
      self.offset = offset
      self.reason = reason
      self.duplicateKey = duplicateKey
      self.depth = depth
    }
  }

  /// The deepest nesting of arrays and objects accepted.
  package static let maximumDepth = 128

  /// Parses a complete JSON document. Leading and trailing JSON whitespace is allowed.
  package static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
    var parser = StrictJSONParser(bytes)
    let value = try parser.parseValue()
    try parser.finish()
    return value
  }

  /// Parses a complete JSON document from an array of bytes.
  package static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
    var result: Result<JSONValue, Failure> = .failure(Failure(offset: 0, reason: "empty"))
    bytes.withUnsafeBytes { raw in
      do throws(Failure) {
        result = .success(try parse(raw))
      } catch {
        result = .failure(error)
      }
    }
    return try result.get()
  }

  private let bytes: UnsafeRawBufferPointer
  private var position = 0
  /// How many arrays and objects enclose the position.
  private var depth = 0

  /// A parser at the start of `bytes` (which must outlive it).
  package init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  /// The offset of the next byte that is not whitespace.
  package mutating func offsetOfNextValue() -> Int {
    skipWhitespace()
    return position
  }

  /// What the next value is, by its first byte (`nil` at the end of the input or before a byte
  /// that starts no value; ``parseValue()`` then says what is wrong).
  package mutating func nextValueKind() -> ValueKind? {
    skipWhitespace()
    switch current {
    case UInt8(ascii: "{"): return .object
    case UInt8(ascii: "["): return .array
    case UInt8(ascii: "\""): return .string
    default: return nil
    }
  }

  /// The kinds of value ``nextValueKind()`` tells apart.
  package enum ValueKind: Sendable {
    case object, array, string
  }

  /// Ends a document: only whitespace may follow the value.
  package mutating func finish() throws(Failure) {
    skipWhitespace()
    if position != bytes.count {
      throw Failure(offset: position, reason: "trailing characters after the JSON value")
    }
  }

  private func fail(_ reason: String, at offset: Int? = nil) -> Failure {
    Failure(offset: offset ?? position, reason: reason)
  }

  private var current: UInt8? {
    position < bytes.count ? bytes[position] : nil
  }

  private mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  /// Parses the next value (after any whitespace) into a tree.
  package mutating func parseValue() throws(Failure) -> JSONValue {
    skipWhitespace()
    guard let byte = current else { throw fail("unexpected end of JSON") }
    switch byte {
    case UInt8(ascii: "{"):
      var members: [(key: String, value: JSONValue)] = []
      try forEachMember { parser, key, _ throws(Failure) in
        members.append((key, try parser.parseValue()))
      }
      return .object(members)
    case UInt8(ascii: "["):
      var elements: [JSONValue] = []
      try forEachElement { parser, _ throws(Failure) in
        elements.append(try parser.parseValue())
      }
      return .array(elements)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
    case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
    case UInt8(ascii: "n"): try expectLiteral("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw fail("unexpected character '\(Self.printable(byte))'")
    }
  }

  /// Parses the object that must come next, calling `body` once per member with the key, the
  /// offset of its opening quote, and the parser positioned before the member's value, which
  /// `body` must consume (``parseValue()`` or a nested walk). Repeated keys are an error.
  package mutating func forEachMember(
    _ body: (inout StrictJSONParser, _ key: String, _ keyOffset: Int) throws(Failure) -> Void
  ) throws(Failure) {
    try forEachMemberToken { parser, key, keyOffset throws(Failure) in try body(&parser, key.string, keyOffset) }
  }

  /// ``forEachMember(_:)`` with each key as a ``StringToken``: a decoder that only compares
  /// keys with known field names makes no `String` of them.
  package mutating func forEachMemberToken(
    _ body: (inout StrictJSONParser, _ key: StringToken, _ keyOffset: Int) throws(Failure) -> Void
  ) throws(Failure) {
    skipWhitespace()
    guard current == UInt8(ascii: "{") else { throw fail("expected an object") }
    depth += 1
    guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
    position += 1
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      depth -= 1
      return
    }
    var keys = DistinctKeys()
    while true {
      skipWhitespace()
      let keyOffset = position
      guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
      let key = try parseStringToken()
      guard keys.insert(key) else {
        // The key is quoted escaped (``TerminalText``): a reason is one line, whatever the key holds.
        let text = key.string
        throw Failure(
          offset: keyOffset, reason: "duplicate key \"\(TerminalText.escaped(text))\"", duplicateKey: text, depth: depth)
      }
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
      position += 1
      try body(&self, key, keyOffset)
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "}"):
        position += 1
        depth -= 1
        return
      default: throw fail("expected ',' or '}' in object")
      }
    }
  }

  /// Parses the array that must come next, calling `body` once per element with its index and
  /// the parser positioned before the element, which `body` must consume.
  package mutating func forEachElement(
    _ body: (inout StrictJSONParser, _ index: Int) throws(Failure) -> Void
  ) throws(Failure) {
    skipWhitespace()
    guard current == UInt8(ascii: "[") else { throw fail("expected an array") }
    depth += 1
    guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
    position += 1
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      depth -= 1
      return
    }
    var index = 0
    while true {
      try body(&self, index)
      index += 1
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "]"):
        position += 1
        depth -= 1
        return
      default: throw fail("expected ',' or ']' in array")
      }
    }
  }

  /// The keys of one object so far, for the duplicate check.
  ///
  /// While every key is plain ASCII (no escapes), keys are compared as their bytes in the
  /// document (for ASCII, bytes order and compare as `String`s do): while each sorts after the
  /// one before, as writers usually emit them, that order alone proves them distinct, and a
  /// small object's few keys are compared one by one. Nothing is allocated for an object of up
  /// to four keys (one per tensor in a header). Any other object falls back to comparing keys
  /// as `String`s, with a set once it is long.
  private struct DistinctKeys {
    private var count = 0
    private var ascending = true
    private var inline: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) =
      (.init(start: nil, count: 0), .init(start: nil, count: 0), .init(start: nil, count: 0), .init(start: nil, count: 0))
    private var more: [UnsafeRawBufferPointer] = []
    private var last = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Every key as a string, once the bytes no longer decide.
    private var strings: [String]?
    private var set: Set<String>?

    /// Notes `key`; `false` if it was already there.
    mutating func insert(_ key: StringToken) -> Bool {
      if strings == nil, case .ascii(let asciiBytes) = key {
        if count > 0, !(ascending && Self.precedes(last, asciiBytes)) {
          ascending = false
          if count <= 16 {
            for index in 0..<count where Self.equal(stored(index), asciiBytes) { return false }
            store(asciiBytes)
            return true
          }
          // Long and out of order: compare as strings, with a set.
          strings = (0..<count).map { String(decoding: stored($0), as: UTF8.self) }
        } else {
          store(asciiBytes)
          return true
        }
      }
      if strings == nil { strings = (0..<count).map { String(decoding: stored($0), as: UTF8.self) } }
      return insertString(key.string)
    }

    private mutating func insertString(_ key: String) -> Bool {
      guard var all = strings else { return false }
      strings = nil
      defer { strings = all }
      if let previous = all.last, !(ascending && previous < key) {
        ascending = false
        if set == nil, all.count >= 16 { set = Set(all) }
        if let set {
          if set.contains(key) { return false }
        } else if all.contains(key) {
          return false
        }
      }
      set?.insert(key)
      all.append(key)
      return true
    }

    private func stored(_ index: Int) -> UnsafeRawBufferPointer {
      switch index {
      case 0: return inline.0
      case 1: return inline.1
      case 2: return inline.2
      case 3: return inline.3
      default: return more[index - 4]
      }
    }

    private mutating func store(_ key: UnsafeRawBufferPointer) {
      switch count {
      case 0: inline.0 = key
      case 1: inline.1 = key
      case 2: inline.2 = key
      case 3: inline.3 = key
      default: more.append(key)
      }
      count += 1
      last = key
    }

    private static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
      guard lhs.count == rhs.count else { return false }
      guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return lhs.count == 0 }
      return memcmp(left, right, lhs.count) == 0
    }

    /// Whether `lhs` comes strictly before `rhs` in byte order.
    private static func precedes(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
      let common = min(lhs.count, rhs.count)
      if common > 0, let left = lhs.baseAddress, let right = rhs.baseAddress {
        let order = memcmp(left, right, common)
        if order != 0 { return order < 0 }
      }
      return lhs.count < rhs.count
    }
  }

  private static func printable(_ byte: UInt8) -> String {
    (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + hex2(byte)
  }

  private static func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
  }

  private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
    let start = position
    let count = literal.utf8CodeUnitCount
    guard bytes.count - position >= count else { throw fail("invalid literal", at: start) }
    let base = literal.utf8Start
    for index in 0..<count where bytes[position + index] != base[index] {
      throw fail("invalid literal", at: start)
    }
    position += count
  }

  private mutating func parseNumber() throws(Failure) -> JSONValue {
    let start = position
    var isInteger = true
    let negative = current == UInt8(ascii: "-")
    if negative { position += 1 }
    guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
      throw fail("invalid number", at: start)
    }
    // The magnitude of an integer literal, while it fits.
    var magnitude: UInt64 = 0
    var fits = true
    if first == UInt8(ascii: "0") {
      position += 1
      if let next = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
        throw fail("leading zero in number", at: start)
      }
    } else {
      while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
        let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
        if overflow1 || overflow2 { fits = false }
        magnitude = sum
        position += 1
      }
    }
    if current == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard skipDigits() > 0 else { throw fail("digit expected after '.'", at: start) }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      isInteger = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard skipDigits() > 0 else { throw fail("digit expected in exponent", at: start) }
    }
    if isInteger, fits {
      if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
      if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(Int64(truncatingIfNeeded: 0 &- magnitude)) }
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    guard let value = Double(text), value.isFinite else {
      throw fail("number out of range", at: start)
    }
    return .double(value)
  }

  @discardableResult
  private mutating func skipDigits() -> Int {
    let start = position
    while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
      position += 1
    }
    return position - start
  }

  /// A string as read from the document.
  package enum StringToken {
    /// A string without escapes whose bytes are all ASCII: its bytes between the quotes,
    /// which are its UTF-8 (valid while the parsed buffer is).
    case ascii(UnsafeRawBufferPointer)
    /// Any other string, decoded.
    case decoded(String)

    /// The string.
    package var string: String {
      switch self {
      case .ascii(let bytes): return String(decoding: bytes, as: UTF8.self)
      case .decoded(let text): return text
      }
    }

    /// Whether the string is `text` (ASCII), compared without making a `String` of a plain one.
    package func spells(_ text: StaticString) -> Bool {
      switch self {
      case .ascii(let bytes):
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        return text.withUTF8Buffer { literal in
          guard let left = literal.baseAddress, let right = bytes.baseAddress else { return true }
          return memcmp(left, right, literal.count) == 0
        }
      case .decoded(let decoded):
        return text.withUTF8Buffer { literal in decoded.utf8.elementsEqual(literal) }
      }
    }
  }

  /// Parses the string that must come next. When its bytes spell `candidate` exactly, that
  /// string is returned instead of a new one (repeated values, such as the shard name of each
  /// entry of an index, then share one string).
  package mutating func parseString(reusing candidate: String? = nil) throws(Failure) -> String {
    let token = try parseStringToken()
    if let candidate, case .ascii(let bytes) = token, Self.spells(bytes, candidate) { return candidate }
    return token.string
  }

  /// Parses the string that must come next, making a `String` only when it has escapes or
  /// bytes beyond ASCII.
  package mutating func parseStringToken() throws(Failure) -> StringToken {
    skipWhitespace()
    guard current == UInt8(ascii: "\"") else { throw fail("expected a string") }
    let start = position
    position += 1
    // Fast path: no escapes; ASCII or valid UTF-8 checked once at the end.
    var scan = position
    var hasEscape = false
    var highBits: UInt8 = 0
    // Eight bytes at a time while none is a quote, a backslash or a control character (most
    // of a tensor name); in the word that holds one, the bytes before the first of them count
    // too, and the byte loop below starts at it.
    if let base = bytes.baseAddress {
      var wordHighBits: UInt64 = 0
      while bytes.count - scan >= 8 {
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: scan, as: UInt64.self))
        let special = ASCIIWords.byteMask(0x22, in: word) | ASCIIWords.byteMask(0x5C, in: word)
          | ASCIIWords.byteMask(below: 0x20, in: word)
        if special != 0 {
          // The lowest flagged byte is the first special one (only bytes above it can be
          // flagged wrongly).
          let before = special.trailingZeroBitCount / 8
          if before > 0 { wordHighBits |= word & (UInt64.max >> (64 - 8 * before)) }
          scan += before
          break
        }
        wordHighBits |= word
        scan += 8
      }
      if wordHighBits & 0x8080_8080_8080_8080 != 0 { highBits = 0x80 }
    }
    while scan < bytes.count {
      let byte = bytes[scan]
      if byte == UInt8(ascii: "\"") { break }
      if byte == UInt8(ascii: "\\") { hasEscape = true; break }
      if byte < 0x20 { throw fail("control character in string", at: scan) }
      highBits |= byte
      scan += 1
    }
    guard scan < bytes.count else { throw fail("unterminated string", at: start) }
    if hasEscape { return .decoded(try parseEscapedString(start: start, scanned: scan)) }
    let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<scan])
    if highBits < 0x80 {
      position = scan + 1
      return .ascii(slice)
    }
    guard let validated = String(validating: slice, as: UTF8.self) else {
      throw fail("invalid UTF-8 in string", at: position)
    }
    position = scan + 1
    return .decoded(validated)
  }

  /// The next value when it is a non-negative integer literal that fits `Int`, consumed;
  /// `nil`, consuming nothing, for any other value (``parseValue()`` then reads it, or says
  /// what is wrong with it).
  package mutating func parseNonNegativeInteger() -> Int? {
    skipWhitespace()
    var scan = position
    var value = 0
    guard scan < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[scan]) else { return nil }
    if bytes[scan] == UInt8(ascii: "0") {
      scan += 1
    } else {
      while scan < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[scan]) {
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(Int(bytes[scan] - UInt8(ascii: "0")))
        if overflow1 || overflow2 { return nil }
        value = sum
        scan += 1
      }
    }
    // A fraction or an exponent makes it another number, a digit after a leading zero an error.
    if scan < bytes.count {
      switch bytes[scan] {
      case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "0")...UInt8(ascii: "9"): return nil
      default: break
      }
    }
    position = scan
    return value
  }

  /// Whether `bytes` are the UTF-8 of `text`.
  private static func spells(_ bytes: UnsafeRawBufferPointer, _ text: String) -> Bool {
    let verdict = text.utf8.withContiguousStorageIfAvailable { utf8 in
      guard utf8.count == bytes.count else { return false }
      guard let left = utf8.baseAddress, let right = bytes.baseAddress else { return utf8.isEmpty }
      return memcmp(left, right, utf8.count) == 0
    }
    return verdict ?? false
  }

  /// The rest of a string with escapes: `start` is its opening quote; the bytes before
  /// `scanned` are plain.
  private mutating func parseEscapedString(start: Int, scanned: Int) throws(Failure) -> String {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(scanned - position + 16)
    buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<scanned]))
    position = scanned
    while true {
      guard let byte = current else { throw fail("unterminated string", at: start) }
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        guard let text = String(validating: buffer, as: UTF8.self) else {
          throw fail("invalid UTF-8 in string", at: start)
        }
        return text
      case UInt8(ascii: "\\"):
        position += 1
        guard let escape = current else { throw fail("unterminated escape") }
        position += 1
        switch escape {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try parseHex4()
          if (0xD800..<0xDC00).contains(scalar) {
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count,
              bytes[position + 1] == UInt8(ascii: "u")
            else { throw fail("unpaired surrogate in string") }
            position += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in string") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00..<0xE000).contains(scalar) {
            throw fail("unpaired surrogate in string")
          }
          guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
          buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
          throw fail("invalid escape '\\\(Self.printable(escape))'", at: position - 2)
        }
      default:
        if byte < 0x20 { throw fail("control character in string") }
        buffer.append(byte)
        position += 1
      }
    }
  }

  private mutating func parseHex4() throws(Failure) -> UInt32 {
    guard bytes.count - position >= 4 else { throw fail("truncated \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw fail("invalid hex digit in \\u escape")
      }
      value = value << 4 | digit
      position += 1
    }
    return value
  }
}
