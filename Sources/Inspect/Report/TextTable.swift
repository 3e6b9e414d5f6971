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

  /// ``render(width:)`` appended to `out` as UTF-8.
  func render(width: Int?, into out: inout [UInt8]) {
    for piece in renderedPieces(width: width, cells: flatCells()) { out += piece }
  }

  /// ``rows`` as flat blocks of ``rowsPerBlock`` rows, each row made exactly one cell per
  /// column (a missing cell is empty and a surplus one is never shown, so this changes no
  /// output).
  private func flatCells() -> [CellBlock] {
    ParallelBlocks.ranges(rows.count, size: Self.rowsPerBlock).map { range in
      var cells: [String] = []
      cells.reserveCapacity(range.count * columns.count)
      for row in range {
        for index in columns.indices { cells.append(index < rows[row].count ? rows[row][index] : "") }
      }
      return CellBlock(rows: range.count, cells: cells)
    }
  }

  /// Consecutive rows, flat and row-major with exactly one cell per column.
  struct CellBlock: Sendable {
    /// How many rows.
    var rows: Int
    /// `rows × columns.count` cells.
    var cells: [String]
  }

  /// The rendering of a table whose rows are given as `blocks` instead of ``rows``, as UTF-8
  /// pieces of ``render(width:)``: the title line, then each block's lines (each line preceded
  /// by its newline).
  ///
  /// Blocks are measured and rendered on separate threads, so a large table (a checkpoint
  /// with 100,000 tensors) costs no per-row array and no copy into one buffer.
  func renderedPieces(width: Int?, cells blocks: [CellBlock]) -> [[UInt8]] {
    let gap = 2
    let columnCount = columns.count
    let measured = ParallelBlocks.map(blocks.count) { Self.displayWidths(blocks[$0].cells) }
    var widths = columns.map { Self.displayWidth($0.title) }
    for block in measured {
      for (offset, cellWidth) in block.enumerated() {
        widths[offset % columnCount] = max(widths[offset % columnCount], cellWidth)
      }
    }
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.reduce(0) { $0 + $1.element }
      let available = width - indent - others - gap * (columns.count - 1)
      widths[flexible] = min(widths[flexible], max(minimumFlexibleWidth, available))
    }
    let columnWidths = widths
    let lineLength = widths.reduce(indent, +) + gap * columns.count + 1
    var title: [UInt8] = []
    line(columns.map(\.title)[...], columns.map { Self.displayWidth($0.title) }[...], widths: widths, into: &title)
    let rendered = ParallelBlocks.map(blocks.count) { number in
      var lines: [UInt8] = []
      lines.reserveCapacity(blocks[number].rows * lineLength)
      for row in 0..<blocks[number].rows {
        lines.append(0x0A)
        let range = row * columnCount..<(row + 1) * columnCount
        line(blocks[number].cells[range], measured[number][range], widths: columnWidths, into: &lines)
      }
      return lines
    }
    return [title] + rendered
  }

  /// Rows measured or rendered together (and handed to one thread).
  static let rowsPerBlock = 16_384

  /// The display width of each of `cells`.
  private static func displayWidths(_ cells: [String]) -> [Int] {
    cells.map(displayWidth)
  }

  /// One line (without its newline): the indent, then each column's cell padded to `widths`,
  /// cells wider than their column shortened in the middle.
  private func line(
    _ cells: ArraySlice<String>, _ measured: ArraySlice<Int>, widths: [Int], into out: inout [UInt8]
  ) {
    let gap = 2
    func spaces(_ count: Int) {
      guard count > 0 else { return }
      if count <= Self.spaceRun.utf8CodeUnitCount {
        Self.spaceRun.withUTF8Buffer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
      } else {
        out.append(contentsOf: repeatElement(0x20, count: count))
      }
    }
    spaces(indent)
    for index in columns.indices {
      let cell = cells[cells.startIndex + index]
      let measuredWidth = measured[measured.startIndex + index]
      let shortened = measuredWidth > widths[index] ? Self.shorten(cell, to: widths[index]) : nil
      let cellWidth = shortened.map(Self.displayWidth) ?? measuredWidth
      let pad = widths[index] - cellWidth
      let isLast = index == columns.count - 1
      let alignment = columns[index].alignment
      if alignment == .right { spaces(pad) }
      Self.append(shortened ?? cell, to: &out)
      if alignment == .left, !isLast { spaces(pad) }
      if !isLast { spaces(gap) }
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
