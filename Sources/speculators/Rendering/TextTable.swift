/// A plain-text table with aligned columns: the one table layout of human output (inspect's
/// files, tensors and dtypes, convert's files).
///
/// Cells are two spaces apart, text left-aligned and numbers right-aligned, each line indented
/// by ``indent``. One column may be marked flexible: when the table is wider than the width
/// allowed, that column's cells are shortened in the middle (`model.layers.0.…proj.weight`).
/// Cells are measured as they will be shown: escaping for the terminal happens afterwards, in
/// ``TerminalLines``.
struct TextTable: Sendable {
  /// How a column's cells are aligned.
  enum Alignment: Sendable {
    /// Cells start at the column's left edge (text).
    case left
    /// Cells end at the column's right edge (numbers).
    case right
  }

  /// One column.
  struct Column: Sendable {
    /// The header cell.
    var title: String
    /// The cells' alignment.
    var alignment: Alignment
    /// Whether this column shrinks to fit the width.
    var flexible: Bool

    init(_ title: String, _ alignment: Alignment = .left, flexible: Bool = false) {
      self.title = title
      self.alignment = alignment
      self.flexible = flexible
    }
  }

  /// The columns.
  var columns: [Column]
  /// The rows; a missing cell is empty and a surplus one is not shown.
  var rows: [[String]] = []
  /// Spaces before each line.
  var indent = 2
  /// The narrowest a flexible column is ever made.
  var minimumFlexibleWidth = 16

  private static let gap = 2

  init(columns: [Column]) {
    self.columns = columns
  }

  /// Appends a row.
  mutating func append(_ row: [String]) {
    rows.append(row)
  }

  /// The title line and one line per row, at most `width` columns wide when `width` is given
  /// (as far as the flexible column can shrink).
  func lines(width: Int?) -> [String] {
    var widths = columns.map { Self.displayWidth($0.title) }
    var measured: [[Int]] = []
    measured.reserveCapacity(rows.count)
    for row in rows {
      let cellWidths = columns.indices.map { $0 < row.count ? Self.displayWidth(row[$0]) : 0 }
      for index in columns.indices { widths[index] = max(widths[index], cellWidths[index]) }
      measured.append(cellWidths)
    }
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.reduce(0) { $0 + $1.element }
      let available = width - indent - others - Self.gap * (columns.count - 1)
      widths[flexible] = min(widths[flexible], max(minimumFlexibleWidth, available))
    }
    var lines: [String] = []
    lines.reserveCapacity(rows.count + 1)
    let titles = columns.map(\.title)
    lines.append(line(titles, titles.map(Self.displayWidth), widths: widths))
    for (row, cellWidths) in zip(rows, measured) {
      lines.append(line(row, cellWidths, widths: widths))
    }
    return lines
  }

  /// ``lines(width:)`` joined by newlines.
  func render(width: Int?) -> String {
    lines(width: width).joined(separator: "\n")
  }

  /// One line: the indent, then each column's cell padded to `widths`, cells wider than their
  /// column shortened in the middle.
  private func line(_ cells: [String], _ measured: [Int], widths: [Int]) -> String {
    var out = String(repeating: " ", count: indent)
    for index in columns.indices {
      let cell = index < cells.count ? cells[index] : ""
      let shortened = measured[index] > widths[index] ? Self.shorten(cell, to: widths[index]) : nil
      let cellWidth = shortened.map(Self.displayWidth) ?? measured[index]
      let pad = widths[index] - cellWidth
      let isLast = index == columns.count - 1
      if columns[index].alignment == .right { Self.appendSpaces(pad, to: &out) }
      out += shortened ?? cell
      if columns[index].alignment == .left, !isLast { Self.appendSpaces(pad, to: &out) }
      if !isLast { Self.appendSpaces(Self.gap, to: &out) }
    }
    return out
  }

  private static func appendSpaces(_ count: Int, to text: inout String) {
    if count > 0 { text += String(repeating: " ", count: count) }
  }

  /// How many terminal columns `text` takes, counting characters (bytes for ASCII).
  static func displayWidth(_ text: String) -> Int {
    let ascii = text.utf8.withContiguousStorageIfAvailable { bytes in
      var highBits: UInt8 = 0
      for byte in bytes { highBits |= byte }
      return highBits < 0x80
    }
    if ascii ?? text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
    return text.count
  }

  /// `text` cut to `width` characters by replacing its middle with `…`.
  static func shorten(_ text: String, to width: Int) -> String {
    guard text.count > width else { return text }
    guard width > 1 else { return String(text.prefix(width)) }
    let keep = width - 1
    let head = keep * 2 / 5
    let tail = keep - head
    return String(text.prefix(head)) + "…" + String(text.suffix(tail))
  }
}
