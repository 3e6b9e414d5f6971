/// Text from checkpoints (tensor, file and config names) made safe to print on a terminal.
///
/// Names come from files downloaded from the internet; printed raw, an escape sequence in a
/// tensor name could clear the screen, retitle the window or hide text, and a bidirectional
/// override could make a name read differently from what it is.
public enum TerminalText {
  /// `text` with C0 controls and DEL escaped as `\xHH`, and C1 controls and bidirectional
  /// formatting characters (U+200E/F, U+202A–U+202E, U+2066–U+2069) as `\u{HHHH}`. With
  /// `keepingLineBreaks`, `\n` (and tab) are kept, for multi-line reports.
  public static func escaped(_ text: String, keepingLineBreaks: Bool = false) -> String {
    func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
      switch scalar.value {
      case 0x0A, 0x09: return !keepingLineBreaks
      case 0..<0x20, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
      default: return false
      }
    }
    // Whether anything needs escaping, decided on the UTF-8 bytes when they are at hand:
    // decoding every scalar of a 100,000-row report was a visible part of `inspect`.
    let byteVerdict = text.utf8.withContiguousStorageIfAvailable {
      needsEscaping($0, keepingLineBreaks: keepingLineBreaks)
    }
    guard byteVerdict ?? text.unicodeScalars.contains(where: isUnsafe) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if !isUnsafe(scalar) {
        out.unicodeScalars.append(scalar)
      } else if scalar.value < 0x80 {
        let hex = String(scalar.value, radix: 16)
        out += "\\x" + (hex.count < 2 ? "0" : "") + hex
      } else {
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      }
    }
    return out
  }

  /// Whether valid UTF-8 `bytes` hold a scalar that ``escaped(_:keepingLineBreaks:)`` escapes:
  /// a C0 control (`\n` and tab allowed when `keepingLineBreaks`), DEL, a C1 control
  /// (`C2 80`–`C2 9F`), or U+200E/F (`E2 80 8E`/`8F`), U+202A–U+202E (`E2 80 AA`–`AE`),
  /// U+2066–U+2069 (`E2 81 A6`–`A9`).
  static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>, keepingLineBreaks: Bool) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    let raw = UnsafeRawPointer(base)
    var index = 0
    while index < bytes.count {
      // Eight bytes at once when all are printable ASCII (0x20...0x7E); other words are looked
      // at byte by byte.
      if index + 8 <= bytes.count, ASCIIWords.isPrintable(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
        index += 8
        continue
      }
      let end = min(index + 8, bytes.count)
      while index < end {
        if needsEscaping(bytes, at: index, keepingLineBreaks: keepingLineBreaks) { return true }
        index += 1
      }
    }
    return false
  }

  /// Whether the byte at `index` starts a scalar that needs escaping (see
  /// ``needsEscaping(_:keepingLineBreaks:)``).
  private static func needsEscaping(
    _ bytes: UnsafeBufferPointer<UInt8>, at index: Int, keepingLineBreaks: Bool
  ) -> Bool {
    let byte = bytes[index]
    if byte >= 0x20 && byte < 0x7F { return false }
    if byte < 0x20 { return !(keepingLineBreaks && (byte == 0x0A || byte == 0x09)) }
    if byte == 0x7F { return true }
    if byte == 0xC2, index + 1 < bytes.count, (0x80...0x9F).contains(bytes[index + 1]) { return true }
    if byte == 0xE2, index + 2 < bytes.count {
      let second = bytes[index + 1]
      let third = bytes[index + 2]
      if second == 0x80 && (third == 0x8E || third == 0x8F || (0xAA...0xAE).contains(third)) { return true }
      if second == 0x81 && (0xA6...0xA9).contains(third) { return true }
    }
    return false
  }
}
