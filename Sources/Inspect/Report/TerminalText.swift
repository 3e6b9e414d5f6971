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
    guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
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
}
