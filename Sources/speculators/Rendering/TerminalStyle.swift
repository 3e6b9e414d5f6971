import Inspect
import Platform


/// What a piece of human output is, for colour. Every command maps the same role to the same
/// colour, and prints no colour at all when colour is off.
enum ColorRole: Sendable, CaseIterable {
  /// A section heading.
  case heading
  /// Something worth a second look (a warning, a difference that counts).
  case warning
  /// An error.
  case error
  /// A good verdict (passed, identical).
  case good
  /// A bad verdict (failed, different).
  case bad
  /// Something present in B only (diff).
  case added
  /// Something present in A only (diff).
  case removed
  /// Secondary text: notes, skipped checks, differences that do not count.
  case muted

  /// The SGR parameters of this role.
  var sgr: String {
    switch self {
    case .heading: "1"
    case .warning: "33"
    case .error: "31"
    case .good: "1;32"
    case .bad: "1;31"
    case .added: "32"
    case .removed: "31"
    case .muted: "2"
    }
  }
}

/// One piece of a line of human output: text (untrusted or not, it is escaped when the line is
/// rendered) and an optional colour role.
///
/// Plain pieces are written as string literals or interpolations; coloured ones with
/// ``styled(_:_:)``.
struct Piece: ExpressibleByStringInterpolation, Sendable {
  var text: String
  var role: ColorRole?

  init(stringLiteral value: String) {
    text = value
    role = nil
  }

  init(_ text: String, role: ColorRole? = nil) {
    self.text = text
    self.role = role
  }
}

/// `text` in colour `role`.
func styled(_ text: String, _ role: ColorRole?) -> Piece { Piece(text, role: role) }

/// Human output built line by line from pieces; ``rendered(color:)`` is the one place where
/// untrusted text (tensor, file and config names, messages quoting them) is escaped for the
/// terminal (``TerminalText``) and colour is added.
struct TerminalLines: Sendable {
  private(set) var lines: [[Piece]] = []

  /// Appends one line made of `pieces`.
  mutating func add(_ pieces: Piece...) { lines.append(pieces) }

  /// Appends one line made of `pieces`.
  mutating func add(pieces: [Piece]) { lines.append(pieces) }

  /// Appends an empty line.
  mutating func blank() { lines.append([]) }

  /// Appends every line of `other`.
  mutating func append(_ other: TerminalLines) { lines += other.lines }

  /// Puts `prefix` before every non-empty line.
  mutating func indent(_ prefix: String) {
    lines = lines.map { $0.isEmpty ? $0 : [Piece(prefix)] + $0 }
  }

  /// Whether no line was added.
  var isEmpty: Bool { lines.isEmpty }

  /// The text, each line ending in `\n`: every piece escaped (no control character, C1 control
  /// or bidirectional override survives), coloured pieces wrapped in SGR codes when `color`.
  func rendered(color: Bool) -> String {
    var out = ""
    for line in lines {
      for piece in line {
        let text = TerminalText.escaped(piece.text)
        if color, let role = piece.role, !text.isEmpty {
          out += "\u{1B}[\(role.sgr)m\(text)\u{1B}[0m"
        } else {
          out += text
        }
      }
      out += "\n"
    }
    return out
  }
}

/// Where human output goes and whether it is coloured there.
enum OutputStream {
  case standardOutput
  case standardError

  var descriptor: Int32 { self == .standardOutput ? STDOUT_FILENO : STDERR_FILENO }

  /// Whether the stream is a terminal.
  var isTerminal: Bool { isatty(descriptor) != 0 }

  /// Colour only on a terminal whose `TERM` is not `dumb`, and never when `NO_COLOR` is set to
  /// a non-empty value (https://no-color.org).
  var usesColor: Bool {
    Self.colorWanted(
      isTerminal: isTerminal, noColor: getenv("NO_COLOR").map { String(cString: $0) },
      term: getenv("TERM").map { String(cString: $0) })
  }

  /// The colour rule: a terminal, `TERM` not `dumb`, and `NO_COLOR` unset or empty.
  static func colorWanted(isTerminal: Bool, noColor: String?, term: String?) -> Bool {
    isTerminal && (noColor ?? "").isEmpty && term != "dumb"
  }

  /// Writes `lines`, escaped and coloured for this stream.
  func emit(_ lines: TerminalLines) {
    guard !lines.isEmpty else { return }
    writeRaw(lines.rendered(color: usesColor))
  }

  /// Writes `text` as it is (already safe: escaped or produced by the tool).
  func writeRaw(_ text: String) {
    var copy = text
    copy.withUTF8 { buffer in
      guard let base = buffer.baseAddress else { return }
      writeAll(UnsafeRawBufferPointer(start: base, count: buffer.count))
    }
  }

  /// Writes every byte of `buffer`, retrying after EINTR.
  func writeAll(_ buffer: UnsafeRawBufferPointer) {
    guard let base = buffer.baseAddress else { return }
    var offset = 0
    while offset < buffer.count {
      let written = System.retryingInterrupts { write(descriptor, base + offset, buffer.count - offset) }
      if written <= 0 { return }
      offset += written
    }
  }
}

/// The width human output is fitted to: the terminal's when stdout is one, else `COLUMNS`,
/// else no limit.
func terminalWidth() -> Int? {
  var size = winsize()
  if isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
    return Int(size.ws_col)
  }
  if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), columns > 0 { return columns }
  return nil
}
