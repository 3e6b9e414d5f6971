extension InspectReport {
  /// The `--json` document as text: exactly `JSONWriter.pretty(json(), sortKeys: false)`, but
  /// written straight into a byte buffer without building the tree for the tensor list, which
  /// matters for checkpoints with 100,000 tensors. No trailing newline (``jsonBytes()`` has one).
  public func jsonText() -> String {
    String(decoding: jsonBytes().dropLast(), as: UTF8.self)
  }

  /// ``jsonText()`` as UTF-8 bytes, followed by one newline (ready for stdout).
  public func jsonBytes() -> [UInt8] {
    var all: [UInt8] = []
    all.reserveCapacity(512 + tensors.count * 200)
    writeJSON { all.append(contentsOf: $0) }
    return all
  }

  /// Streams ``jsonBytes()`` to `sink` in chunks of about `chunkSize` bytes, so a very large
  /// report never sits in memory as one buffer.
  public func writeJSON(chunkSize: Int = 1 << 20, _ sink: (UnsafeRawBufferPointer) -> Void) {
    var writer = PrettyJSONBytes()
    writer.bytes.reserveCapacity(chunkSize + 4096)
    let members = json(includingTensors: false).objectMembers ?? []
    writer.open(0x7B)
    for (index, member) in members.enumerated() {
      writer.memberPrefix(key: member.key, indent: 2, first: index == 0)
      if member.key == "tensors" {
        writeTensors(into: &writer, chunkSize: chunkSize, sink)
      } else {
        writer.value(member.value, indent: 2)
      }
    }
    writer.close(0x7D, indent: 0)
    writer.bytes.append(0x0A)
    writer.bytes.withUnsafeBytes(sink)
  }

  /// Blocks of tensor entries rendered at the same time, at most (bounds the memory held).
  private static let blocksInFlight = 4

  /// The `tensors` list. It is most of the document for large checkpoints, so it is rendered
  /// in blocks of about `chunkSize` bytes, several blocks at a time on separate threads, and
  /// each block goes to `sink` in order as soon as its turn comes.
  private func writeTensors(
    into writer: inout PrettyJSONBytes, chunkSize: Int, _ sink: (UnsafeRawBufferPointer) -> Void
  ) {
    guard !tensors.isEmpty else {
      writer.raw("[]")
      return
    }
    // An entry of a typical tensor is about 200 bytes.
    let blocks = ParallelBlocks.ranges(tensors.count, size: chunkSize / 200)
    writer.bytes.withUnsafeBytes(sink)
    writer.bytes.removeAll(keepingCapacity: true)
    for group in ParallelBlocks.ranges(blocks.count, size: Self.blocksInFlight) {
      let rendered = ParallelBlocks.map(group.count) { tensorEntries(blocks[group.lowerBound + $0]) }
      for block in rendered { block.withUnsafeBytes(sink) }
    }
    writer.close(0x5D, indent: 2)
  }

  /// The entries of the tensors in `range`, each starting with its separator (`[` before the
  /// first tensor of the list, `,` before the others) and ending at its closing brace.
  private func tensorEntries(_ range: Range<Int>) -> [UInt8] {
    var writer = PrettyJSONBytes()
    writer.bytes.reserveCapacity(range.count * 256)
    var lastFile: String?
    var lastFileJSON: [UInt8] = []
    // Fixed parts are static strings (block copies without reference counting), and tensors
    // are read in place through the buffer: each entry is a few copies plus its values.
    tensors.withUnsafeBufferPointer { tensors in
      for index in range {
        writer.raw(index == 0 ? "[\n    {\n      \"name\": " : ",\n    {\n      \"name\": ")
        writer.string(tensors[index].name)
        writer.raw(",\n      \"dtype\": ")
        writer.string(tensors[index].dtype.rawValue)
        writer.raw(",\n      \"shape\": ")
        if tensors[index].shape.isEmpty {
          writer.raw("[]")
        } else {
          tensors[index].shape.withUnsafeBufferPointer { shape in
            for position in shape.indices {
              writer.raw(position == 0 ? "[\n        " : ",\n        ")
              writer.integer(shape[position])
            }
          }
          writer.raw("\n      ]")
        }
        writer.raw(",\n      \"parameters\": ")
        writer.integer(tensors[index].parameters)
        writer.raw(",\n      \"bytes\": ")
        writer.integer(tensors[index].bytes)
        writer.raw(",\n      \"file\": ")
        // Neighbouring tensors mostly share a file: quote its name once per run.
        if tensors[index].file != lastFile {
          lastFile = tensors[index].file
          var quoted = PrettyJSONBytes()
          quoted.string(tensors[index].file)
          lastFileJSON = quoted.bytes
        }
        writer.bytes.append(contentsOf: lastFileJSON)
        writer.raw("\n    }")
      }
    }
    return writer.bytes
  }
}

/// Writes ``JSONValue``s in ``JSONWriter/pretty(_:sortKeys:)`` layout (members in stored order)
/// into bytes.
struct PrettyJSONBytes {
  var bytes: [UInt8] = []

  mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  mutating func open(_ bracket: UInt8) {
    bytes.append(bracket)
  }

  /// A newline, the indent, then the closing bracket.
  mutating func close(_ bracket: UInt8, indent: Int) {
    newlineIndent(indent, comma: false)
    bytes.append(bracket)
  }

  private static let spaces = [UInt8](repeating: 0x20, count: 64)

  /// `,` when not first, then a newline and `indent` spaces.
  mutating func newlineIndent(_ indent: Int, comma: Bool) {
    if comma { bytes.append(0x2C) }
    bytes.append(0x0A)
    if indent <= Self.spaces.count {
      bytes.append(contentsOf: Self.spaces[0..<indent])
    } else {
      bytes.append(contentsOf: repeatElement(0x20, count: indent))
    }
  }

  /// Separator, newline, indent, `"key": `.
  mutating func memberPrefix(key: String, indent: Int, first: Bool) {
    newlineIndent(indent, comma: !first)
    string(key)
    bytes.append(0x3A)
    bytes.append(0x20)
  }

  /// The decimal digits of `value`, as `String(value)` spells them.
  mutating func integer(_ value: Int) {
    if value >= 0, value < 10 {
      bytes.append(0x30 + UInt8(value))
      return
    }
    if value < 0 { bytes.append(0x2D) }
    var magnitude = value.magnitude
    let start = bytes.count
    repeat {
      bytes.append(0x30 + UInt8(magnitude % 10))
      magnitude /= 10
    } while magnitude > 0
    bytes[start...].reverse()
  }

  mutating func string(_ text: String) {
    let plain = text.utf8.withContiguousStorageIfAvailable { utf8 in
      for byte in utf8 where byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C { return false }
      bytes.append(0x22)
      bytes.append(contentsOf: utf8)
      bytes.append(0x22)
      return true
    }
    if plain != true { bytes.append(contentsOf: JSONWriter.quote(text).utf8) }
  }

  /// Any value, with nested lines indented relative to `indent` (the indent of the line the
  /// value starts on).
  mutating func value(_ value: JSONValue, indent: Int) {
    switch value {
    case .null: raw("null")
    case .bool(let flag): flag ? raw("true") : raw("false")
    case .int(let number): bytes.append(contentsOf: String(number).utf8)
    case .double(let number): bytes.append(contentsOf: JSONWriter.formatDouble(number).utf8)
    case .string(let text): string(text)
    case .array(let elements):
      guard !elements.isEmpty else { return raw("[]") }
      open(0x5B)
      for (index, element) in elements.enumerated() {
        newlineIndent(indent + 2, comma: index > 0)
        self.value(element, indent: indent + 2)
      }
      close(0x5D, indent: indent)
    case .object(let members):
      guard !members.isEmpty else { return raw("{}") }
      open(0x7B)
      for (index, member) in members.enumerated() {
        memberPrefix(key: member.key, indent: indent + 2, first: index == 0)
        self.value(member.value, indent: indent + 2)
      }
      close(0x7D, indent: indent)
    }
  }
}
