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
    let flushIfFull = { (writer: inout PrettyJSONBytes) in
      if writer.bytes.count >= chunkSize {
        writer.bytes.withUnsafeBytes(sink)
        writer.bytes.removeAll(keepingCapacity: true)
      }
    }
    let members = json(includingTensors: false).objectMembers ?? []
    writer.open(0x7B)
    for (index, member) in members.enumerated() {
      writer.memberPrefix(key: member.key, indent: 2, first: index == 0)
      if member.key == "tensors" {
        writeTensors(into: &writer, afterEach: flushIfFull)
      } else {
        writer.value(member.value, indent: 2)
      }
    }
    writer.close(0x7D, indent: 0)
    writer.bytes.append(0x0A)
    writer.bytes.withUnsafeBytes(sink)
  }

  private func writeTensors(
    into writer: inout PrettyJSONBytes, afterEach: (inout PrettyJSONBytes) -> Void
  ) {
    guard !tensors.isEmpty else {
      writer.raw("[]")
      return
    }
    writer.open(0x5B)
    for (index, tensor) in tensors.enumerated() {
      writer.newlineIndent(4, comma: index > 0)
      writer.open(0x7B)
      writer.memberPrefix(key: "name", indent: 6, first: true)
      writer.string(tensor.name)
      writer.memberPrefix(key: "dtype", indent: 6, first: false)
      writer.string(tensor.dtype.rawValue)
      writer.memberPrefix(key: "shape", indent: 6, first: false)
      if tensor.shape.isEmpty {
        writer.raw("[]")
      } else {
        writer.open(0x5B)
        for (position, dimension) in tensor.shape.enumerated() {
          writer.newlineIndent(8, comma: position > 0)
          writer.integer(dimension)
        }
        writer.close(0x5D, indent: 6)
      }
      writer.memberPrefix(key: "parameters", indent: 6, first: false)
      writer.integer(tensor.parameters)
      writer.memberPrefix(key: "bytes", indent: 6, first: false)
      writer.integer(tensor.bytes)
      writer.memberPrefix(key: "file", indent: 6, first: false)
      writer.string(tensor.file)
      writer.close(0x7D, indent: 4)
      afterEach(&writer)
    }
    writer.close(0x5D, indent: 2)
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

  mutating func integer(_ value: Int) {
    if value >= 0, value < 10 {
      bytes.append(0x30 + UInt8(value))
    } else {
      bytes.append(contentsOf: String(value).utf8)
    }
  }

  mutating func string(_ text: String) {
    var text = text
    let plain = text.withUTF8 { utf8 in
      guard utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) else { return false }
      bytes.append(0x22)
      bytes.append(contentsOf: utf8)
      bytes.append(0x22)
      return true
    }
    if !plain { bytes.append(contentsOf: JSONWriter.quote(text).utf8) }
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
