/// Serialises ``JSONValue`` deterministically.
///
/// Two styles: ``pretty(_:sortKeys:)`` matches Python's `json.dumps(indent=2, sort_keys=True)`
/// (the style Hugging Face uses for `config.json` and index files), and ``compact(_:)`` matches
/// serde's compact output (the style of safetensors headers). Doubles are written in the
/// shortest form that round-trips, as Python's `repr` does (`1e-05`, `500000.0`).
package enum JSONWriter {
  /// Two-space indented JSON with `", "`-free separators (`,` then newline, `": "`).
  package static func pretty(_ value: JSONValue, sortKeys: Bool = true) -> String {
    var out = ""
    writePretty(value, indent: 0, sortKeys: sortKeys, into: &out)
    return out
  }

  /// JSON with no whitespace, members in their stored order.
  package static func compact(_ value: JSONValue) -> String {
    var out = ""
    writeCompact(value, into: &out)
    return out
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
    // Fast path: printable ASCII without quote or backslash needs no escaping.
    if string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
      return "\"" + string + "\""
    }
    var out = "\""
    for unit in string.utf16 {
      switch unit {
      case 0x22: out += "\\\""
      case 0x5C: out += "\\\\"
      case 0x0A: out += "\\n"
      case 0x0D: out += "\\r"
      case 0x09: out += "\\t"
      case 0x08: out += "\\b"
      case 0x0C: out += "\\f"
      case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
      default:
        let hex = String(unit, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      }
    }
    return out + "\""
  }

  private static func writeScalar(_ value: JSONValue, into out: inout String) -> Bool {
    switch value {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += formatDouble(d)
    case .string(let s): out += quote(s)
    case .array, .object: return false
    }
    return true
  }

  private static func writePretty(
    _ value: JSONValue, indent: Int, sortKeys: Bool, into out: inout String
  ) {
    if writeScalar(value, into: &out) { return }
    let pad = String(repeating: " ", count: indent + 2)
    let closePad = String(repeating: " ", count: indent)
    switch value {
    case .array(let elements):
      if elements.isEmpty { out += "[]"; return }
      out += "[\n"
      for (index, element) in elements.enumerated() {
        out += pad
        writePretty(element, indent: indent + 2, sortKeys: sortKeys, into: &out)
        out += index + 1 < elements.count ? ",\n" : "\n"
      }
      out += closePad + "]"
    case .object(let members):
      if members.isEmpty { out += "{}"; return }
      let ordered = sortKeys ? members.sorted { $0.key < $1.key } : members
      out += "{\n"
      for (index, member) in ordered.enumerated() {
        out += pad + quote(member.key) + ": "
        writePretty(member.value, indent: indent + 2, sortKeys: sortKeys, into: &out)
        out += index + 1 < ordered.count ? ",\n" : "\n"
      }
      out += closePad + "}"
    default: break
    }
  }

  private static func writeCompact(_ value: JSONValue, into out: inout String) {
    if writeScalar(value, into: &out) { return }
    switch value {
    case .array(let elements):
      out += "["
      for (index, element) in elements.enumerated() {
        if index > 0 { out += "," }
        writeCompact(element, into: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (index, member) in members.enumerated() {
        if index > 0 { out += "," }
        out += quote(member.key) + ":"
        writeCompact(member.value, into: &out)
      }
      out += "}"
    default: break
    }
  }
}
