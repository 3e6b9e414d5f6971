import Inspect

/// Human rendering of an ``InspectReport``: a summary line, then files, config, detection,
/// metadata, tensors and per-dtype totals, tables in ``TextTable``'s layout and sizes in
/// ``HumanUnits``. Files and tensors are listed in ``NaturalOrder`` (`layers.2` before
/// `layers.10`); the JSON keeps the report's byte order.
enum InspectRendering {
  /// The report's lines. `width` bounds the tables and the detection lines (long tensor names
  /// are shortened in the middle); `nil` means no limit.
  static func lines(_ report: InspectReport, width: Int?) -> TerminalLines {
    var out = TerminalLines()
    let totals = report.totals
    out.add(styled(report.location, .heading))
    out.add(
      Piece(
        "  \(report.files.count) file\(report.files.count == 1 ? "" : "s"), "
          + "\(HumanUnits.grouped(totals.tensors)) tensor\(totals.tensors == 1 ? "" : "s"), "
          + "\(HumanUnits.grouped(totals.parameters)) parameters"
          + (totals.parameters >= 1000 ? " (\(HumanUnits.count(totals.parameters))), " : ", ")
          + HumanUnits.bytes(totals.bytes)))

    out.blank()
    out.add(styled("Files", .heading))
    var files = TextTable(columns: [.init("name", flexible: true), .init("kind"), .init("size", .right)])
    for file in NaturalOrder.sorted(report.files, by: \.name) {
      files.append([file.name, file.kind.rawValue, HumanUnits.bytes(file.size)])
    }
    add(files, width: width, to: &out)

    out.blank()
    if let config = report.config {
      out.add(styled("Config (config.json)", .heading))
      let present = config.fields.filter { !$0.value.isNull }
      let keyWidth = present.map(\.key.count).max() ?? 0
      for field in present {
        out.add(Piece("  " + padded(field.key, to: keyWidth) + "  " + plain(field.value)))
      }
      if present.isEmpty { out.add("  (none of the summarised fields are set)") }
    } else {
      out.add(styled("Config", .heading))
      out.add("  no config.json")
    }

    out.blank()
    out.add(styled("Detection", .heading))
    for line in detectionLines(report.detection) {
      for piece in wrap("  " + line, width: width) { out.add(Piece(piece)) }
    }

    if !report.metadata.isEmpty {
      out.blank()
      out.add(styled("Metadata (safetensors __metadata__)", .heading))
      for file in report.metadata.keys.sorted() {
        let map = report.metadata[file] ?? [:]
        let pairs = map.keys.sorted().map { "\($0)=\(map[$0] ?? "")" }.joined(separator: ", ")
        out.add(Piece("  \(file): \(pairs.isEmpty ? "(empty)" : pairs)"))
      }
    }

    out.blank()
    out.add(styled("Tensors (\(HumanUnits.grouped(report.tensors.count)))", .heading))
    if report.tensors.isEmpty {
      out.add("  (none)")
    } else {
      add(tensorTable(NaturalOrder.sorted(report.tensors, by: \.name)), width: width, to: &out)
    }

    if !report.dtypes.isEmpty {
      out.blank()
      out.add(styled("By dtype", .heading))
      var dtypes = TextTable(columns: [
        .init("dtype"), .init("tensors", .right), .init("params", .right), .init("size", .right),
      ])
      for entry in report.dtypes {
        dtypes.append([
          entry.dtype.rawValue, HumanUnits.grouped(entry.totals.tensors), HumanUnits.count(entry.totals.parameters),
          HumanUnits.bytes(entry.totals.bytes),
        ])
      }
      add(dtypes, width: width, to: &out)
    }
    return out
  }

  /// The detection block: format and confidence, algorithm, signature, facts, then the
  /// evidence, alternatives and notes (one per line, indented).
  static func detectionLines(_ detection: Detection) -> [String] {
    let conversion = detection.conversion
    var lines = [
      "format:     \(detection.format.rawValue) — \(detection.format.title) "
        + "(confidence \(confidence(detection.confidence)))",
      "algorithm:  " + (conversion.algorithm?.rawValue ?? "none — \(conversion.reason ?? "")"),
      "signature:  \(detection.signature)",
      "facts:      \(facts(detection.facts))",
    ]
    if let prefix = detection.strippedPrefix { lines.append("prefix:     \"\(prefix)\" stripped from tensor names") }
    if !detection.alternatives.isEmpty {
      lines.append("could be:   " + detection.alternatives.map(\.rawValue).joined(separator: ", "))
    }
    lines.append("evidence:")
    lines += detection.evidence.map { "  - \($0)" }
    if !detection.notes.isEmpty {
      lines.append("notes:")
      lines += detection.notes.map { "  - \($0)" }
    }
    return lines
  }

  /// The detected facts on one line, for example
  /// `hidden 64, vocab 512, draft vocab 128, 1 decoder layer, fc in 192 (3 aux states), ...`.
  static func facts(_ facts: DetectedFacts) -> String {
    var parts: [String] = []
    if let hidden = facts.hiddenSize { parts.append("hidden \(hidden)") }
    if let target = facts.targetHiddenSize { parts.append("target hidden \(target)") }
    if let vocab = facts.vocabSize { parts.append("vocab \(vocab)") }
    if let draftVocab = facts.draftVocabSize { parts.append("draft vocab \(draftVocab)") }
    parts.append("\(facts.decoderLayers) decoder layer\(facts.decoderLayers == 1 ? "" : "s")")
    if let width = facts.fcInputWidth {
      parts.append("fc in \(width)" + (facts.auxStateCount.map { " (\($0) aux state\($0 == 1 ? "" : "s"))" } ?? ""))
    }
    func flag(_ name: String, _ value: Bool) -> String { "\(name) \(value ? "yes" : "no")" }
    parts.append(flag("embeddings", facts.embeddingsPresent))
    parts.append(flag("d2t", facts.d2tPresent))
    parts.append(flag("t2d", facts.t2dPresent))
    parts.append(flag("fusion bias", facts.fusionBias))
    parts.append(flag("layernorms", facts.layernorms))
    if let dtype = facts.weightsDType { parts.append("weights \(dtype.rawValue)") }
    return parts.joined(separator: ", ")
  }

  /// A confidence with two decimals (`0.80`), as the JSON rounds it.
  static func confidence(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
  }

  /// The tensor table: name, dtype, shape, parameters and size, and the file when the tensors
  /// are spread over more than one.
  private static func tensorTable(_ tensors: [InspectReport.Tensor]) -> TextTable {
    var columns: [TextTable.Column] = [
      .init("name", flexible: true), .init("dtype"), .init("shape"), .init("params", .right), .init("size", .right),
    ]
    let showFile = tensors.indices.dropFirst().contains { tensors[$0].file != tensors[0].file }
    if showFile { columns.append(.init("file")) }
    var table = TextTable(columns: columns)
    table.rows.reserveCapacity(tensors.count)
    // Checkpoints repeat a few shapes and sizes many times: spell each once.
    var shapes: [[Int]: String] = [:]
    var counts: [Int: String] = [:]
    var sizes: [Int: String] = [:]
    for tensor in tensors {
      let shape = shapes[tensor.shape] ?? "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
      shapes[tensor.shape] = shape
      let count = counts[tensor.parameters] ?? HumanUnits.count(tensor.parameters)
      counts[tensor.parameters] = count
      let size = sizes[tensor.bytes] ?? HumanUnits.bytes(tensor.bytes)
      sizes[tensor.bytes] = size
      var row = [tensor.name, tensor.dtype.rawValue, shape, count, size]
      if showFile { row.append(tensor.file) }
      table.append(row)
    }
    return table
  }

  private static func add(_ table: TextTable, width: Int?, to out: inout TerminalLines) {
    for line in table.lines(width: width) { out.add(Piece(line)) }
  }

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

  /// A config value as text: plain strings without quotes, arrays of scalars as comma lists,
  /// anything else as compact JSON.
  private static func plain(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): return text
    case .array(let elements) where elements.allSatisfy({ $0.objectMembers == nil && $0.arrayValue == nil }):
      return elements.map(plain).joined(separator: ", ")
    default: return JSONWriter.compact(value)
    }
  }

  private static func padded(_ text: String, to width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }
}
