/// A plain-text table with aligned columns, for terminal reports.
///
/// One column may be marked flexible: when the table is wider than the width allowed, that
/// column's cells are shortened in the middle (`model.layers.0.…proj.weight`) to fit.
public struct TextTable: Sendable {
  /// How a column's cells are aligned.
  public enum Alignment: Sendable {
    case left, right
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
    var widths = columns.map { $0.title.count }
    for row in rows {
      for (index, cell) in row.enumerated() where index < widths.count {
        widths[index] = max(widths[index], cell.count)
      }
    }
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.reduce(0) { $0 + $1.element }
      let available = width - indent - others - gap * (columns.count - 1)
      widths[flexible] = min(widths[flexible], max(minimumFlexibleWidth, available))
    }
    func line(_ cells: [String]) -> String {
      var out = String(repeating: " ", count: indent)
      for (index, column) in columns.enumerated() {
        var cell = index < cells.count ? cells[index] : ""
        if cell.count > widths[index] { cell = Self.shorten(cell, to: widths[index]) }
        let pad = String(repeating: " ", count: widths[index] - cell.count)
        let isLast = index == columns.count - 1
        switch column.alignment {
        case .left: out += cell + (isLast ? "" : pad)
        case .right: out += pad + cell
        }
        if !isLast { out += String(repeating: " ", count: gap) }
      }
      return out
    }
    return ([line(columns.map(\.title))] + rows.map(line)).joined(separator: "\n")
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
