/// Serialises JSON deterministically: the one JSON writer of the tools.
///
/// Two styles: ``pretty(_:sortKeys:)`` matches Python's `json.dumps(indent=2, sort_keys=True)`
/// (the style Hugging Face uses for `config.json` and index files), and ``compact(_:)`` matches
/// serde's compact output (the style of safetensors headers). Doubles are written in the
/// shortest form that round-trips, as Python's `repr` does (`1e-05`, `500000.0`).
///
/// The pretty style is also written piece by piece, without a ``JSONValue`` tree:
/// ``streamPretty(chunkSize:to:_:)`` hands its body a writer on which ``beginObject()``,
/// ``key(_:)``, ``string(_:)``, ``integer(_:)``, ``write(_:sortKeys:)`` and the rest lay out
/// the document, and hands the bytes to a sink in chunks, so that a document of 100,000 tensor
/// entries never sits in memory as a tree or as one string. A ``JSONValue`` is written through
/// the same pieces, so both give the same bytes.
package struct JSONWriter {
  /// Two-space indented JSON with `", "`-free separators (`,` then newline, `": "`).
  package static func pretty(_ value: JSONValue, sortKeys: Bool = true) -> String {
    var writer = JSONWriter()
    writer.write(value, sortKeys: sortKeys)
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
    streamPretty(chunkSize: chunkSize, to: sink) { $0.write(value, sortKeys: sortKeys) }
  }

  /// The pretty-style document that `body` writes (one value), followed by a newline, as
  /// UTF-8 handed to `sink` in pieces of about `chunkSize` bytes.
  package static func streamPretty(
    chunkSize: Int = 1 << 20, to sink: (UnsafeRawBufferPointer) -> Void, _ body: (inout JSONWriter) -> Void
  ) {
    withoutActuallyEscaping(sink) { sink in
      var writer = JSONWriter()
      writer.chunkSize = max(1, chunkSize)
      writer.sink = sink
      writer.bytes = Output(capacity: min(writer.chunkSize, 1 << 24) + 4096)
      body(&writer)
      writer.bytes.append(0x0A)
      sink(writer.bytes.contents)
    }
  }

  /// The pretty-style document that `body` writes (one value), followed by a newline, as
  /// UTF-8 bytes.
  package static func prettyBytes(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
    var writer = JSONWriter()
    body(&writer)
    writer.bytes.append(0x0A)
    return Array(writer.bytes.contents)
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
    writer.appendQuoted(string)
    return String(decoding: writer.bytes.contents, as: UTF8.self)
  }

  // MARK: - Writing the pretty style piece by piece

  /// Opens an object (as the next element, or as the value of the last ``key(_:)``).
  package mutating func beginObject() {
    beginValue()
    bytes.append(0x7B)
    open(array: false)
  }

  /// Closes the innermost object.
  package mutating func endObject() { close(0x7D) }

  /// Opens an array (as the next element, or as the value of the last ``key(_:)``).
  package mutating func beginArray() {
    beginValue()
    bytes.append(0x5B)
    open(array: true)
  }

  /// Closes the innermost array.
  package mutating func endArray() { close(0x5D) }

  /// The key of the next member of the innermost object; its value comes next.
  package mutating func key(_ key: String) {
    beginKey()
    appendQuoted(key)
    raw(": ")
  }

  /// ``key(_:)`` for a key written in the source, such as a schema's field name.
  package mutating func key(literal key: StaticString) {
    guard key.hasPointerRepresentation else { return self.key(key.description) }
    let text = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
    guard ASCIIWords.isPrintableWithoutQuoteOrBackslash(text) else { return self.key(key.description) }
    beginKey()
    bytes.appendQuoted(text, then: 0x3A, 0x20)
  }

  /// A member with a string value, its key written in the source.
  package mutating func member(_ key: StaticString, _ text: String) {
    self.key(literal: key)
    string(text)
  }

  /// A member with an integer value, its key written in the source.
  package mutating func member(_ key: StaticString, _ value: Int) {
    self.key(literal: key)
    integer(value)
  }

  /// The separator before a key.
  private mutating func beginKey() {
    flushIfFull()
    newline(indent: 2 * containers.count, comma: !atContainerStart)
    atContainerStart = false
  }

  /// A string value.
  package mutating func string(_ text: String) {
    beginValue()
    appendQuoted(text)
  }

  /// An integer value.
  package mutating func integer(_ value: Int) {
    beginValue()
    appendInteger(Int64(value))
  }

  /// A whole value, with each object's members sorted by key when `sortKeys`, else in their
  /// stored order.
  package mutating func write(_ value: JSONValue, sortKeys: Bool) {
    switch value {
    case .array(let elements):
      beginArray()
      for element in elements { write(element, sortKeys: sortKeys) }
      endArray()
    case .object(let members):
      beginObject()
      for member in sortKeys ? members.sorted(by: { $0.key < $1.key }) : members {
        key(member.key)
        write(member.value, sortKeys: sortKeys)
      }
      endObject()
    default:
      beginValue()
      _ = writeScalar(value)
    }
  }

  /// The open containers, innermost last (`true` for an array).
  private var containers: [Bool] = []
  /// Whether the innermost container is an array.
  private var inArray = false
  /// Whether nothing has been written in the innermost container yet.
  private var atContainerStart = false

  /// The separator before an element of an array (nothing before a member's value or the root).
  private mutating func beginValue() {
    guard inArray else { return }
    flushIfFull()
    newline(indent: 2 * containers.count, comma: !atContainerStart)
    atContainerStart = false
  }

  private mutating func open(array: Bool) {
    containers.append(array)
    inArray = array
    atContainerStart = true
  }

  /// Ends the innermost container with `bracket`: `{}` and `[]` when empty, else on a line
  /// of its own.
  private mutating func close(_ bracket: UInt8) {
    _ = containers.popLast()
    if !atContainerStart { newline(indent: 2 * containers.count) }
    bytes.append(bracket)
    atContainerStart = false
    inArray = containers.last ?? false
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
    if text.hasPointerRepresentation {
      bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    } else {
      text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
  }

  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  /// `string` in quotes, with the escapes Python's `json.dumps` uses.
  private mutating func appendQuoted(_ string: String) {
    // Printable ASCII without quote or backslash is written as it is.
    let plain = string.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
      guard ASCIIWords.isPrintableWithoutQuoteOrBackslash(utf8) else { return false }
      bytes.appendQuoted(utf8)
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
  private mutating func appendInteger(_ value: Int64) {
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
    case .int(let number): appendInteger(number)
    case .double(let number): bytes.append(contentsOf: Self.formatDouble(number).utf8)
    case .string(let text): appendQuoted(text)
    case .array, .object: return false
    }
    return true
  }

  /// A comma, a newline and 62 spaces: every separator and indent of the pretty style is a
  /// piece of it.
  private static let separator: StaticString = ",\n                                                              "

  /// A comma when `comma`, then a newline and `indent` spaces, in one append.
  private mutating func newline(indent: Int, comma: Bool = false) {
    let separator = UnsafeBufferPointer(start: Self.separator.utf8Start, count: Self.separator.utf8CodeUnitCount)
    let start = comma ? 0 : 1
    if indent <= separator.count - 2 {
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: separator[start..<(2 + indent)]))
    } else {
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: separator[start..<2]))
      bytes.append(contentsOf: repeatElement(0x20, count: indent))
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
        appendQuoted(member.key)
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

    /// Room for `extra` more bytes.
    @inline(__always)
    private func reserve(_ extra: Int) {
      if capacity - count < extra { grow(extra) }
    }

    @inline(never)
    private func grow(_ extra: Int) {
      var grown = capacity
      while grown - count < extra { grown *= 2 }
      let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
      moved.initialize(from: base, count: count)
      base.deallocate()
      base = moved
      capacity = grown
    }

    @inline(__always)
    func append(_ byte: UInt8) {
      reserve(1)
      (base + count).initialize(to: byte)
      count += 1
    }

    @inline(__always)
    func append(contentsOf piece: UnsafeBufferPointer<UInt8>) {
      guard let source = piece.baseAddress, !piece.isEmpty else { return }
      reserve(piece.count)
      (base + count).initialize(from: source, count: piece.count)
      count += piece.count
    }

    /// `piece` between double quotes.
    @inline(__always)
    func appendQuoted(_ piece: UnsafeBufferPointer<UInt8>) {
      reserve(piece.count + 2)
      base[count] = 0x22
      if let source = piece.baseAddress { (base + count + 1).initialize(from: source, count: piece.count) }
      base[count + 1 + piece.count] = 0x22
      count += piece.count + 2
    }

    /// `piece` between double quotes, then two bytes.
    @inline(__always)
    func appendQuoted(_ piece: UnsafeBufferPointer<UInt8>, then first: UInt8, _ second: UInt8) {
      reserve(piece.count + 4)
      base[count] = 0x22
      if let source = piece.baseAddress { (base + count + 1).initialize(from: source, count: piece.count) }
      base[count + 1 + piece.count] = 0x22
      base[count + 2 + piece.count] = first
      base[count + 3 + piece.count] = second
      count += piece.count + 4
    }

    func append(contentsOf piece: some Sequence<UInt8>) {
      for byte in piece { append(byte) }
    }
  }
}
