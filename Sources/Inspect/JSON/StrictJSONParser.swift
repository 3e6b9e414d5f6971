/// A strict, fast JSON parser over raw bytes.
///
/// Differences from Foundation's `JSONSerialization` that matter for untrusted checkpoint
/// headers: duplicate keys in an object are an error (not "last one wins"); integers are kept
/// exactly as `Int64` (never routed through `Double`); invalid UTF-8, control characters in
/// strings, trailing garbage and nesting deeper than ``maximumDepth`` are errors; errors carry
/// the byte offset.
package struct StrictJSONParser {
  /// A parse failure at a byte offset of the parsed buffer.
  package struct Failure: Error, Sendable, Equatable {
    /// Offset of the offending byte within the parsed bytes.
    package var offset: Int
    /// What was wrong.
    package var reason: String
  }

  /// The deepest nesting of arrays and objects accepted.
  package static let maximumDepth = 128

  /// Parses a complete JSON document. Leading and trailing JSON whitespace is allowed.
  package static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
    var parser = StrictJSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    if parser.position != bytes.count {
      throw Failure(offset: parser.position, reason: "trailing characters after the JSON value")
    }
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

  private init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
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

  private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
    guard let byte = current else { throw fail("unexpected end of JSON") }
    switch byte {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
    case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
    case UInt8(ascii: "n"): try expectLiteral("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw fail("unexpected character '\(Self.printable(byte))'")
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

  private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
    guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
    position += 1
    var members: [(key: String, value: JSONValue)] = []
    var seen = Set<String>()
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      let keyOffset = position
      guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
      let key = try parseString()
      guard seen.insert(key).inserted else {
        throw fail("duplicate key \"\(key)\"", at: keyOffset)
      }
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
      position += 1
      skipWhitespace()
      let value = try parseValue(depth: depth)
      members.append((key, value))
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "}"): position += 1; return .object(members)
      default: throw fail("expected ',' or '}' in object")
      }
    }
  }

  private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
    guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
    position += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "]"): position += 1; return .array(elements)
      default: throw fail("expected ',' or ']' in array")
      }
    }
  }

  private mutating func parseNumber() throws(Failure) -> JSONValue {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
      throw fail("invalid number", at: start)
    }
    if first == UInt8(ascii: "0") {
      position += 1
      if let next = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
        throw fail("leading zero in number", at: start)
      }
    } else {
      skipDigits()
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
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if isInteger, let value = Int64(text) {
      return .int(value)
    }
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

  private mutating func parseString() throws(Failure) -> String {
    let start = position
    position += 1
    // Fast path: no escapes, ASCII or valid UTF-8 checked once at the end.
    var scan = position
    var hasEscape = false
    while scan < bytes.count {
      let byte = bytes[scan]
      if byte == UInt8(ascii: "\"") { break }
      if byte == UInt8(ascii: "\\") { hasEscape = true; break }
      if byte < 0x20 { throw fail("control character in string", at: scan) }
      scan += 1
    }
    guard scan < bytes.count else { throw fail("unterminated string", at: start) }
    if !hasEscape {
      let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<scan])
      guard let text = String(validating: slice, as: UTF8.self) else {
        throw fail("invalid UTF-8 in string", at: position)
      }
      position = scan + 1
      return text
    }
    var buffer: [UInt8] = []
    buffer.reserveCapacity(scan - position + 16)
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
