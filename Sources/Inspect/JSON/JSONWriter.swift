/// Serialises ``JSONValue`` deterministically: the one JSON writer of the tools.
///
/// Two styles: ``pretty(_:sortKeys:)`` matches Python's `json.dumps(indent=2, sort_keys=True)`
/// (the style Hugging Face uses for `config.json` and index files), and ``compact(_:)`` matches
/// serde's compact output (the style of safetensors headers). Doubles are written in the
/// shortest form that round-trips, as Python's `repr` does (`1e-05`, `500000.0`).
/// ``writePretty(_:sortKeys:chunkSize:to:)`` streams the pretty style in chunks, so that a
/// document of 100,000 tensor entries never sits in memory as one string.
package struct JSONWriter {
  /// Two-space indented JSON with `", "`-free separators (`,` then newline, `": "`).
  package static func pretty(_ value: JSONValue, sortKeys: Bool = true) -> String {
    var writer = JSONWriter()
    writer.writePretty(value, indent: 0, sortKeys: sortKeys)
    return String(decoding: writer.bytes.contents, as: UTF8.self)
  }

  /// JSON with no whitespace, members in their stored order.
  package static func compact(_ value: JSONValue) -> String {
    var writer = JSONWriter()
    writer.writeCompact(value)
    return String(decoding: writer.bytes.contents, as: UTF8.self)
  }

  /// ``pretty(_:sortKeys:)`` followed by a newline, as UTF-8 handed to `sink` in pieces of
  /// about `chunkSize` bytes (never one piece for the whole document).
  package static func writePretty(
    _ value: JSONValue, sortKeys: Bool = true, chunkSize: Int = 1 << 20,
    to sink: (UnsafeRawBufferPointer) -> Void
  ) {
    withoutActuallyEscaping(sink) { sink in
      var writer = JSONWriter()
      writer.chunkSize = max(1, chunkSize)
      writer.sink = sink
      writer.bytes = Output(capacity: min(writer.chunkSize, 1 << 24) + 4096)
      writer.writePretty(value, indent: 0, sortKeys: sortKeys)
      writer.bytes.append(0x0A)
      sink(writer.bytes.contents)
    }
  }

  /// The JSON spelling of a double, Python-`repr` style.
  package static func formatDouble(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
    var text = "\(value)"
    // Swift prints 1e-05 as "1e-05" and 1e+16 as "1e+16", like Python; integral values keep ".0".
    if !text.contains(".") && !text.contains("e") { text += ".0" }
    return text
  }

  /// The JSON spelling of a string, with the escapes Python's `json.dumps` uses
  /// (`ensure_ascii=True`: non-ASCII as `\uXXXX`).
  package static func quote(_ string: String) -> String {
    var writer = JSONWriter()
    writer.writeString(string)
    return String(decoding: writer.bytes.contents, as: UTF8.self)
  }

  // MARK: - Writing bytes

  private var bytes = Output(capacity: 256)
  /// Where full chunks go when streaming (`nil`: everything stays in ``bytes``).
  private var sink: ((UnsafeRawBufferPointer) -> Void)?
  private var chunkSize = Int.max

  private init() {}

  /// Hands the bytes so far to the sink once they fill a chunk.
  private mutating func flushIfFull() {
    guard bytes.count >= chunkSize, let sink else { return }
    sink(bytes.contents)
    bytes.removeAll()
  }

  private mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  private mutating func writeString(_ string: String) {
    // Printable ASCII without quote or backslash is written as it is.
    let plain = string.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
      for byte in utf8 where byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C { return false }
      bytes.append(0x22)
      bytes.append(contentsOf: utf8)
      bytes.append(0x22)
      return true
    }
    if plain == true { return }
    bytes.append(0x22)
    for unit in string.utf16 {
      switch unit {
      case 0x22: raw("\\\"")
      case 0x5C: raw("\\\\")
      case 0x0A: raw("\\n")
      case 0x0D: raw("\\r")
      case 0x09: raw("\\t")
      case 0x08: raw("\\b")
      case 0x0C: raw("\\f")
      case 0x20..<0x7F: bytes.append(UInt8(unit))
      default:
        raw("\\u")
        for shift in stride(from: 12, through: 0, by: -4) {
          bytes.append(Self.hexDigits[Int((unit >> UInt16(shift)) & 0xF)])
        }
      }
    }
    bytes.append(0x22)
  }

  /// The decimal digits of `value`, as `String(value)` spells them.
  private mutating func writeInteger(_ value: Int64) {
    if value >= 0, value < 10 {
      bytes.append(0x30 + UInt8(value))
      return
    }
    // Twenty digits and a sign, written from the end.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
      var magnitude = value.magnitude
      var start = digits.count
      repeat {
        start -= 1
        digits[start] = 0x30 + UInt8(magnitude % 10)
        magnitude /= 10
      } while magnitude > 0
      if value < 0 {
        start -= 1
        digits[start] = 0x2D
      }
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
    }
  }

  /// Writes a value that is not an array or object; returns `false` for those.
  private mutating func writeScalar(_ value: JSONValue) -> Bool {
    switch value {
    case .null: raw("null")
    case .bool(let flag): flag ? raw("true") : raw("false")
    case .int(let number): writeInteger(number)
    case .double(let number): bytes.append(contentsOf: Self.formatDouble(number).utf8)
    case .string(let text): writeString(text)
    case .array, .object: return false
    }
    return true
  }

  /// A comma, a newline and 62 spaces: every separator and indent of the pretty style is a
  /// piece of it.
  private static let separator: StaticString = ",\n                                                              "

  /// A comma when `comma`, then a newline and `indent` spaces, in one append.
  private mutating func newline(indent: Int, comma: Bool = false) {
    Self.separator.withUTF8Buffer { separator in
      let start = comma ? 0 : 1
      if indent <= separator.count - 2 {
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: separator[start..<(2 + indent)]))
      } else {
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: separator[start..<2]))
        bytes.append(contentsOf: repeatElement(0x20, count: indent))
      }
    }
  }

  private mutating func writePretty(_ value: JSONValue, indent: Int, sortKeys: Bool) {
    if writeScalar(value) { return }
    switch value {
    case .array(let elements):
      if elements.isEmpty { return raw("[]") }
      bytes.append(0x5B)
      for index in elements.indices {
        newline(indent: indent + 2, comma: index > 0)
        writePretty(elements[index], indent: indent + 2, sortKeys: sortKeys)
        flushIfFull()
      }
      newline(indent: indent)
      bytes.append(0x5D)
    case .object(let members):
      if members.isEmpty { return raw("{}") }
      let ordered = sortKeys ? members.sorted { $0.key < $1.key } : members
      bytes.append(0x7B)
      for index in ordered.indices {
        newline(indent: indent + 2, comma: index > 0)
        writeString(ordered[index].key)
        raw(": ")
        writePretty(ordered[index].value, indent: indent + 2, sortKeys: sortKeys)
        flushIfFull()
      }
      newline(indent: indent)
      bytes.append(0x7D)
    default: break
    }
  }

  private mutating func writeCompact(_ value: JSONValue) {
    if writeScalar(value) { return }
    switch value {
    case .array(let elements):
      bytes.append(0x5B)
      for (index, element) in elements.enumerated() {
        if index > 0 { bytes.append(0x2C) }
        writeCompact(element)
      }
      bytes.append(0x5D)
    case .object(let members):
      bytes.append(0x7B)
      for (index, member) in members.enumerated() {
        if index > 0 { bytes.append(0x2C) }
        writeString(member.key)
        bytes.append(0x3A)
        writeCompact(member.value)
      }
      bytes.append(0x7D)
    default: break
    }
  }

  /// The bytes written so far: a growing buffer that takes each piece with one copy.
  private final class Output {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
      self.capacity = max(64, capacity)
      base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written, valid until the next write.
    var contents: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func removeAll() { count = 0 }

    private func reserve(_ extra: Int) {
      guard capacity - count < extra else { return }
      var grown = capacity
      while grown - count < extra { grown *= 2 }
      let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
      moved.initialize(from: base, count: count)
      base.deallocate()
      base = moved
      capacity = grown
    }

    func append(_ byte: UInt8) {
      reserve(1)
      (base + count).initialize(to: byte)
      count += 1
    }

    func append(contentsOf piece: UnsafeBufferPointer<UInt8>) {
      guard let source = piece.baseAddress, !piece.isEmpty else { return }
      reserve(piece.count)
      (base + count).initialize(from: source, count: piece.count)
      count += piece.count
    }

    func append(contentsOf piece: some Sequence<UInt8>) {
      for byte in piece { append(byte) }
    }
  }
}
