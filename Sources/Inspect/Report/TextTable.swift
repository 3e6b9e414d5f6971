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
    var out: [UInt8] = []
    render(width: width, into: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// ``render(width:)`` appended to `out` as UTF-8 (large reports skip a copy).
  func render(width: Int?, into out: inout [UInt8]) {
    let gap = 2
    // Cell widths in one flat array (row-major): a nested array per row cost an allocation
    // each on 100,000-row tables.
    var cellWidths: [Int] = []
    cellWidths.reserveCapacity(rows.count * columns.count)
    var rowStarts: [Int] = []
    rowStarts.reserveCapacity(rows.count + 1)
    var widths = columns.map { Self.displayWidth($0.title) }
    for row in rows.indices {
      rowStarts.append(cellWidths.count)
      for index in rows[row].indices {
        let cellWidth = Self.displayWidth(rows[row][index])
        cellWidths.append(cellWidth)
        if index < widths.count { widths[index] = max(widths[index], cellWidth) }
      }
    }
    rowStarts.append(cellWidths.count)
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.reduce(0) { $0 + $1.element }
      let available = width - indent - others - gap * (columns.count - 1)
      widths[flexible] = min(widths[flexible], max(minimumFlexibleWidth, available))
    }
    out.reserveCapacity(out.count + (rows.count + 1) * (widths.reduce(indent, +) + gap * columns.count + 1))
    func spaces(_ count: Int) {
      guard count > 0 else { return }
      if count <= Self.spaceRun.utf8CodeUnitCount {
        Self.spaceRun.withUTF8Buffer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
      } else {
        out.append(contentsOf: repeatElement(0x20, count: count))
      }
    }
    func line(_ cells: [String], _ measured: ArraySlice<Int>) {
      spaces(indent)
      for (index, column) in columns.enumerated() {
        let measuredWidth = index < measured.count ? measured[measured.startIndex + index] : 0
        let shortened = index < cells.count && measuredWidth > widths[index]
        let cell = shortened ? Self.shorten(cells[index], to: widths[index]) : nil
        let cellWidth = cell.map(Self.displayWidth) ?? measuredWidth
        let pad = widths[index] - cellWidth
        let isLast = index == columns.count - 1
        if column.alignment == .right { spaces(pad) }
        if let cell {
          out.append(contentsOf: cell.utf8)
        } else if index < cells.count {
          Self.append(cells[index], to: &out)
        }
        if column.alignment == .left, !isLast { spaces(pad) }
        if !isLast { spaces(gap) }
      }
    }
    let titleWidths = columns.map { Self.displayWidth($0.title) }
    line(columns.map(\.title), titleWidths[...])
    for row in rows.indices {
      out.append(0x0A)
      line(rows[row], cellWidths[rowStarts[row]..<rowStarts[row + 1]])
    }
  }

  /// How many terminal columns `text` takes, counting characters (bytes for ASCII).
  static func displayWidth(_ text: String) -> Int {
    // ASCII is one column a byte; the byte test runs on the UTF-8 storage when it is at hand.
    let ascii = text.utf8.withContiguousStorageIfAvailable { bytes in
      var highBits: UInt8 = 0
      for byte in bytes { highBits |= byte }
      return highBits < 0x80
    }
    if ascii ?? text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
    return text.count
  }

  /// Appends the UTF-8 of `text` to `out`, as one block copy when the bytes are at hand.
  private static func append(_ text: String, to out: inout [UInt8]) {
    let copied: Void? = text.utf8.withContiguousStorageIfAvailable { out.append(contentsOf: $0) }
    if copied == nil { out.append(contentsOf: text.utf8) }
  }

  /// Spaces to pad cells from, copied in one block.
  private static let spaceRun: StaticString = "                                                "

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
