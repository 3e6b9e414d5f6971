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
    let measured = ParallelBlocks.map(blocks.count) { Self.measure(blocks[$0].cells) }
    var widths = columns.map { Self.displayWidth($0.title) }
    for block in measured {
      for (offset, cellWidth) in block.widths.enumerated() {
        widths[offset % columnCount] = max(widths[offset % columnCount], cellWidth)
      }
    }
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.reduce(0) { $0 + $1.element }
      let available = width - indent - others - gap * (columns.count - 1)
      widths[flexible] = min(widths[flexible], max(minimumFlexibleWidth, available))
    }
    let columnWidths = widths
    let titleCells = columns.map(\.title)
    let title = lines(
      rows: 1, cells: titleCells, widths: titleCells.map(Self.displayWidth),
      bytes: titleCells.reduce(0) { $0 + $1.utf8.count }, columnWidths: columnWidths, newlines: false)
    let rendered = ParallelBlocks.map(blocks.count) { number in
      lines(
        rows: blocks[number].rows, cells: blocks[number].cells, widths: measured[number].widths,
        bytes: measured[number].bytes, columnWidths: columnWidths, newlines: true)
    }
    return [title] + rendered
  }

  /// Rows measured or rendered together (and handed to one thread).
  static let rowsPerBlock = 16_384

  /// The display width of each of `cells`, and their UTF-8 byte count in all.
  private static func measure(_ cells: [String]) -> (widths: [Int], bytes: Int) {
    var bytes = 0
    let widths = cells.map { cell in
      bytes += cell.utf8.count
      return displayWidth(cell)
    }
    return (widths, bytes)
  }

  /// The lines of `rows` rows of `cells` (row-major, one per column; `widths` their display
  /// widths, `bytes` their UTF-8 count in all), each preceded by a newline when `newlines`.
  private func lines(
    rows: Int, cells: [String], widths: [Int], bytes: Int, columnWidths: [Int], newlines: Bool
  ) -> [UInt8] {
    // Room for every cell (a shortened cell is at most 2 bytes longer: "…" is 3 bytes and
    // replaces at least one character), its padding (at most the column width) and gap, the
    // indent and the newline of each row.
    let gap = 2
    let perRow = 1 + indent + columnWidths.reduce(0, +) + gap * columns.count
    let capacity = bytes + 2 * cells.count + rows * perRow
    var overflowed = false
    let written = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
      var writer = LineWriter(buffer: buffer)
      for row in 0..<rows {
        if newlines { writer.byte(0x0A) }
        let range = row * columns.count..<(row + 1) * columns.count
        line(cells[range], widths[range], widths: columnWidths, into: &writer)
      }
      overflowed = writer.overflowed
      count = overflowed ? 0 : writer.count
    }
    guard overflowed else { return written }
    // Not expected (the room above is a bound): the same lines through a growing array.
    var out = GrowingLineWriter()
    for row in 0..<rows {
      if newlines { out.byte(0x0A) }
      let range = row * columns.count..<(row + 1) * columns.count
      line(cells[range], widths[range], widths: columnWidths, into: &out)
    }
    return out.bytes
  }

  /// One line (without its newline): the indent, then each column's cell padded to `widths`,
  /// cells wider than their column shortened in the middle.
  private func line<Writer: TableByteWriter>(
    _ cells: ArraySlice<String>, _ measured: ArraySlice<Int>, widths: [Int], into out: inout Writer
  ) {
    let gap = 2
    out.spaces(indent)
    for index in columns.indices {
      let cell = cells[cells.startIndex + index]
      let measuredWidth = measured[measured.startIndex + index]
      let shortened = measuredWidth > widths[index] ? Self.shorten(cell, to: widths[index]) : nil
      let cellWidth = shortened.map(Self.displayWidth) ?? measuredWidth
      let pad = widths[index] - cellWidth
      let isLast = index == columns.count - 1
      let alignment = columns[index].alignment
      if alignment == .right { out.spaces(pad) }
      if let shortened { out.text(shortened) } else { out.text(cell) }
      if alignment == .left, !isLast { out.spaces(pad) }
      if !isLast { out.spaces(gap) }
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
