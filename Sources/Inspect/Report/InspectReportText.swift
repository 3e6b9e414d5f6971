extension InspectReport {
  /// The human rendering: a summary line, then files, config, detection, metadata, tensors and
  /// per-dtype totals as aligned tables. `width` bounds the table width (long tensor names are
  /// shortened in the middle); `nil` means no limit. Pure: no colour, no terminal queries.
  public func text(width: Int? = nil) -> String {
    String(decoding: textPieces(width: width).joined(), as: UTF8.self)
  }

  /// Writes ``text(width:)`` to `sink` as UTF-8, escaped for a terminal exactly as
  /// `TerminalText.escaped(text(width:), keepingLineBreaks: true)` would be, in pieces and
  /// without making a `String` of the report (a report of 100,000 tensors is megabytes).
  public func writeTerminalText(width: Int? = nil, _ sink: (UnsafeRawBufferPointer) -> Void) {
    // Pieces are split where lines meet, and escaping works scalar by scalar, so escaping
    // each piece on its own gives the escaping of the whole.
    for piece in textPieces(width: width) {
      let needsEscaping = piece.withUnsafeBufferPointer {
        TerminalText.needsEscaping($0, keepingLineBreaks: true)
      }
      if needsEscaping {
        var escaped = TerminalText.escaped(String(decoding: piece, as: UTF8.self), keepingLineBreaks: true)
        escaped.withUTF8 { sink(UnsafeRawBufferPointer($0)) }
      } else {
        piece.withUnsafeBytes(sink)
      }
    }
  }

  /// ``text(width:)`` as consecutive pieces of UTF-8, split where lines meet.
  func textPieces(width: Int?) -> [[UInt8]] {
    var sections: [String] = []
    sections.append(
      location + "\n  " + "\(files.count) file\(files.count == 1 ? "" : "s"), "
        + "\(HumanUnits.grouped(totals.tensors)) tensor\(totals.tensors == 1 ? "" : "s"), "
        + "\(HumanUnits.grouped(totals.parameters)) parameters"
        + (totals.parameters >= 1000 ? " (\(HumanUnits.count(totals.parameters))), " : ", ")
        + HumanUnits.bytes(totals.bytes))

    var fileTable = TextTable(columns: [.init("name", flexible: true), .init("kind"), .init("size", .right)])
    for file in files { fileTable.append([file.name, file.kind.rawValue, HumanUnits.bytes(file.size)]) }
    sections.append("Files\n" + fileTable.render(width: width))

    if let config {
      var lines = ["Config (config.json)"]
      let present = config.fields.filter { !$0.value.isNull }
      let keyWidth = present.map(\.key.count).max() ?? 0
      for field in present {
        lines.append("  " + field.key.padding(to: keyWidth) + "  " + Self.plain(field.value))
      }
      if present.isEmpty { lines.append("  (none of the summarised fields are set)") }
      sections.append(lines.joined(separator: "\n"))
    } else {
      sections.append("Config\n  no config.json")
    }

    let detectionLines = detection.humanLines.flatMap { Self.wrap("  " + $0, width: width) }
    sections.append((["Detection"] + detectionLines).joined(separator: "\n"))

    if !metadata.isEmpty {
      var lines = ["Metadata (safetensors __metadata__)"]
      for file in metadata.keys.sorted() {
        let map = metadata[file] ?? [:]
        let pairs = map.keys.sorted().map { "\($0)=\(map[$0] ?? "")" }.joined(separator: ", ")
        lines.append("  \(file): \(pairs.isEmpty ? "(empty)" : pairs)")
      }
      sections.append(lines.joined(separator: "\n"))
    }

    var columns: [TextTable.Column] = [
      .init("name", flexible: true), .init("dtype"), .init("shape"), .init("params", .right), .init("size", .right),
    ]
    // More than one weights file among the tensors.
    let showFile = tensors.indices.dropFirst().contains { tensors[$0].file != tensors[0].file }
    if showFile { columns.append(.init("file")) }
    // The tensor table is most of the text for large checkpoints (100,000 tensors make
    // 100,000 rows): its cells are made in blocks on separate threads, and its rendering stays
    // in pieces that go out as they are rather than through one joined string.
    let tensorTable = TextTable(columns: columns)
    let blocks = ParallelBlocks.ranges(tensors.count, size: TextTable.rowsPerBlock)
    let cells = ParallelBlocks.map(blocks.count) { tensorCells(blocks[$0], showFile: showFile) }
    let tensorHeading = "Tensors (\(HumanUnits.grouped(tensors.count)))\n"
    let tensorSection = sections.count
    sections.append(tensors.isEmpty ? tensorHeading + "  (none)" : tensorHeading)

    var dtypeTable = TextTable(columns: [
      .init("dtype"), .init("tensors", .right), .init("params", .right), .init("size", .right),
    ])
    for entry in dtypes {
      dtypeTable.append([
        entry.dtype.rawValue, HumanUnits.grouped(entry.totals.tensors), HumanUnits.count(entry.totals.parameters),
        HumanUnits.bytes(entry.totals.bytes),
      ])
    }
    if !dtypes.isEmpty { sections.append("By dtype\n" + dtypeTable.render(width: width)) }
    var pieces: [[UInt8]] = []
    var text: [UInt8] = []
    for (index, section) in sections.enumerated() {
      if index > 0 { text.append(contentsOf: "\n\n".utf8) }
      text.append(contentsOf: section.utf8)
      if index == tensorSection, !tensors.isEmpty {
        pieces.append(text)
        pieces += tensorTable.renderedPieces(width: width, cells: cells)
        text = []
      }
    }
    text.append(0x0A)
    pieces.append(text)
    return pieces
  }

  /// The tensor table's cells for `tensors[range]`, row by row.
  private func tensorCells(_ range: Range<Int>, showFile: Bool) -> TextTable.CellBlock {
    var cells: [String] = []
    cells.reserveCapacity(range.count * (showFile ? 6 : 5))
    // Checkpoints repeat a few shapes and sizes many times: spell each once.
    var shapes = Spellings<[Int]> { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
    var counts = Spellings<Int>(HumanUnits.count)
    var sizes = Spellings<Int>(HumanUnits.bytes)
    for index in range {
      cells.append(tensors[index].name)
      cells.append(tensors[index].dtype.rawValue)
      cells.append(shapes.text(for: tensors[index].shape))
      cells.append(counts.text(for: tensors[index].parameters))
      cells.append(sizes.text(for: tensors[index].bytes))
      if showFile { cells.append(tensors[index].file) }
    }
    return TextTable.CellBlock(rows: range.count, cells: cells)
  }

  /// Spellings of values, each made once: the last one is kept at hand (neighbouring tensors
  /// often share it) and the others in a dictionary.
  private struct Spellings<Key: Hashable> {
    private let spell: (Key) -> String
    private var cache: [Key: String] = [:]
    private var last: (key: Key, text: String)?

    init(_ spell: @escaping (Key) -> String) {
      self.spell = spell
    }

    mutating func text(for key: Key) -> String {
      if let last, last.key == key { return last.text }
      let text: String
      if let cached = cache[key] {
        text = cached
      } else {
        text = spell(key)
        cache[key] = text
      }
      last = (key, text)
      return text
    }
  }

  /// A JSON value without quotes around plain strings, arrays as comma lists.
  /// Splits `line` at spaces so no piece is wider than `width`, keeping the line's own spacing;
  /// continuation lines are indented two more than the line. A word wider than the room left is
  /// shortened in the middle.
  static func wrap(_ line: String, width: Int?) -> [String] {
    guard let width, TextTable.displayWidth(line) > width else { return [line] }
    let indentCount = line.prefix { $0 == " " || $0 == "-" }.count
    let continuation = String(repeating: " ", count: indentCount + 2)
    var lines: [String] = []
    var rest = Substring(line)
    var prefix = ""
    while !rest.isEmpty {
      let room = width - prefix.count
      let chars = Array(rest)
      if chars.count <= room {
        lines.append(prefix + String(rest))
        break
      }
      // The last space inside the room that is not part of the leading indentation.
      let lowest = prefix.isEmpty ? indentCount + 1 : 1
      var cut = -1
      var index = min(room, chars.count - 1)
      while index >= lowest {
        if chars[index] == " " { cut = index; break }
        index -= 1
      }
      if cut < 0 {
        let end = chars.firstIndex(of: " ") ?? chars.count
        let word = String(chars[..<end])
        lines.append(prefix + TextTable.shorten(word, to: max(4, room)))
        rest = Substring(String(chars[end...]).drop { $0 == " " })
      } else {
        lines.append(prefix + String(chars[..<cut]))
        rest = Substring(String(chars[cut...]).drop { $0 == " " })
      }
      prefix = continuation
    }
    return lines
  }

  private static func plain(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): return text
    case .array(let elements) where elements.allSatisfy({ $0.objectMembers == nil && $0.arrayValue == nil }):
      return elements.map(plain).joined(separator: ", ")
    default: return JSONWriter.compact(value)
    }
  }
}

extension String {
  fileprivate func padding(to width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}
