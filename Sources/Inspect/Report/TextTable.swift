/// A plain-text table with aligned columns, for terminal reports.
///
/// One column may be marked flexible: when the table is wider than the width allowed, that
/// column's cells are shortened in the middle (`model.layers.0.…proj.weight`) to fit.
public struct TextTable: Sendable {
  /// How a column's cells are aligned.
  public enum Alignment: Sendable {
    /// Cells start at the column's left edge (text).
    case left
    /// Cells end at the column's right edge (numbers).
    case right
  }

  /// One column.
  public struct Column: Sendable {
    /// The header cell.
    public var title: String
    /// The cells' alignment.
    public var alignment: Alignment
    /// Whether this column shrinks to fit the width.
    public var flexible: Bool

    /// Creates a column.
    public init(_ title: String, _ alignment: Alignment = .left, flexible: Bool = false) {
      self.title = title
      self.alignment = alignment
      self.flexible = flexible
    }
  }

  /// The columns.
  public var columns: [Column]
  /// The rows; each has one cell per column.
  public var rows: [[String]] = []
  /// Spaces before each line.
  public var indent = 2
  /// The narrowest a flexible column is ever made.
  public var minimumFlexibleWidth = 16

  /// Creates an empty table.
  public init(columns: [Column]) {
    self.columns = columns
  }

  /// Appends a row.
  public mutating func append(_ row: [String]) {
    rows.append(row)
  }

  /// The table as lines joined by newlines, at most `width` columns wide when `width` is given
  /// (as far as the flexible column can shrink).
  public func render(width: Int?) -> String {
    let gap = 2
    let cellWidths = rows.map { $0.map(Self.displayWidth) }
    var widths = columns.map { Self.displayWidth($0.title) }
    for row in cellWidths {
      for (index, cellWidth) in row.enumerated() where index < widths.count {
        widths[index] = max(widths[index], cellWidth)
      }
    }
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.reduce(0) { $0 + $1.element }
      let available = width - indent - others - gap * (columns.count - 1)
      widths[flexible] = min(widths[flexible], max(minimumFlexibleWidth, available))
    }
    var out: [UInt8] = []
    out.reserveCapacity((rows.count + 1) * (widths.reduce(indent, +) + gap * columns.count + 1))
    func spaces(_ count: Int) {
      if count > 0 { out.append(contentsOf: repeatElement(0x20, count: count)) }
    }
    func line(_ cells: [String], _ measured: [Int]) {
      spaces(indent)
      for (index, column) in columns.enumerated() {
        var cell = index < cells.count ? cells[index] : ""
        var cellWidth = index < measured.count ? measured[index] : 0
        if cellWidth > widths[index] {
          cell = Self.shorten(cell, to: widths[index])
          cellWidth = Self.displayWidth(cell)
        }
        let pad = widths[index] - cellWidth
        let isLast = index == columns.count - 1
        if column.alignment == .right { spaces(pad) }
        out.append(contentsOf: cell.utf8)
        if column.alignment == .left, !isLast { spaces(pad) }
        if !isLast { spaces(gap) }
      }
    }
    line(columns.map(\.title), columns.map { Self.displayWidth($0.title) })
    for (row, measured) in zip(rows, cellWidths) {
      out.append(0x0A)
      line(row, measured)
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// How many terminal columns `text` takes, counting characters (bytes for ASCII).
  static func displayWidth(_ text: String) -> Int {
    let bytes = text.utf8.count
    if text.utf8.allSatisfy({ $0 < 0x80 }) { return bytes }
    return text.count
  }

  /// `text` cut to `width` characters by replacing its middle with `…`.
  public static func shorten(_ text: String, to width: Int) -> String {
    guard text.count > width else { return text }
    guard width > 1 else { return String(text.prefix(width)) }
    let keep = width - 1
    let head = keep * 2 / 5
    let tail = keep - head
    return String(text.prefix(head)) + "…" + String(text.suffix(tail))
  }
}
