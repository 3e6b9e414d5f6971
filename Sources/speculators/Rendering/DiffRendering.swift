import Inspect
import Platform
import Validate


/// Human rendering of a ``DiffReport``: one line per difference, values cut to fit, identical
/// tensors counted rather than listed, and the summary line last (the JSON document, which
/// carries that line, is in `DiffRendering+JSON.swift`).
enum DiffRendering {
  /// Tensor lines shown per status before the rest are counted.
  static let linesPerStatus = 20

  static func lines(_ report: DiffReport) -> TerminalLines {
    var lines = TerminalLines()
    let options = report.options
    lines.add("A  \(report.a.path)  (\(describe(report.a)))")
    lines.add("B  \(report.b.path)  (\(describe(report.b)))")
    var pairing = "Pairing: \(report.mapping.description)"
    if let side = report.mapping.sourceSide { pairing += " (\(side.uppercased()) is the source)" }
    lines.add(Piece(pairing))
    lines.add(
      Piece(
        options.structureOnly
          ? "Compared: structure only (headers: names, dtypes, shapes; configs, files); tensor bytes not read "
            + "(--download compares bytes, --values values)"
          : options.compareValues
            ? "Compared: values, within rtol \(format(options.relativeTolerance)) "
              + "atol \(format(options.absoluteTolerance))"
            : "Compared: exact (bytes); values examined where bytes differ"))

    if let configNote = report.configNote {
      lines.blank()
      lines.add(styled("Config:", .heading), " \(configNote)")
    }
    addDifferences("Config", report.configDifferences, to: &lines)
    addDifferences("Metadata", report.metadataDifferences, to: &lines)
    addDifferences("Manifest", report.manifestDifferences, to: &lines)

    let files = report.fileDifferences
    if !files.isEmpty {
      lines.blank()
      lines.add(styled("Files:", .heading), Piece(" \(files.count) difference" + (files.count == 1 ? "" : "s")))
      for file in NaturalOrder.sorted(files, by: \.name) {
        let counted: ColorRole = file.isDifference ? .warning : .muted
        let note = file.note.map { " (\($0))" } ?? ""
        switch file.change {
        case .onlyInA:
          lines.add("  ", styled("- \(file.name)", .removed), " (only in A, \(size(file.aSize ?? 0)))")
        case .onlyInB:
          lines.add("  ", styled("+ \(file.name)", .added), " (only in B, \(size(file.bSize ?? 0)))")
        case .sizeChanged:
          lines.add(
            "  ", styled("~ \(file.name)", counted),
            ": \(sizeChange(file.aSize ?? 0, file.bSize ?? 0))\(note)")
        case .contentChanged:
          lines.add("  ", styled("~ \(file.name)", counted), ": same size, SHA-256 differs\(note)")
        }
      }
    }

    lines.blank()
    let tensors = report.tensors
    // Identical pairs (and, structure only, pairs of equal dtype and shape) are counted, not listed.
    let quiet: TensorComparison.Status = options.structureOnly ? .bytesNotRead : .identical
    let unlisted = tensors.filter { $0.status == quiet }.count
    lines.add(
      styled("Tensors:", .heading),
      Piece(
        " \(tensors.count) (\(unlisted) "
          + (options.structureOnly
            ? "of equal dtype and shape; bytes not read"
            : "identical" + (report.a.kind == "manifest" || report.b.kind == "manifest" ? " by digest" : "")) + ")"))
    var shown: [TensorComparison.Status: Int] = [:]
    for tensor in NaturalOrder.sorted(tensors, by: \.name) where tensor.status != quiet {
      shown[tensor.status, default: 0] += 1
      if shown[tensor.status, default: 0] <= linesPerStatus {
        addTensor(tensor, options: options, to: &lines)
      }
    }
    for status in TensorComparison.Status.allCases {
      let hidden = (shown[status] ?? 0) - linesPerStatus
      if hidden > 0 {
        lines.add("  ... \(hidden) more \(phrase(for: status, count: hidden)) (all are listed by --json)")
      }
    }

    lines.blank()
    lines.add(styled(summaryLine(report), report.result == .different ? .bad : .good))
    return lines
  }

  private static func addDifferences(
    _ title: String, _ differences: [ConfigDifference], to lines: inout TerminalLines
  ) {
    guard !differences.isEmpty else { return }
    lines.blank()
    let volatile = differences.filter(\.isVolatile).count
    lines.add(
      styled("\(title):", .heading),
      Piece(
        " \(differences.count) difference" + (differences.count == 1 ? "" : "s")
          + (volatile > 0 ? " (\(volatile) volatile)" : "")))
    for difference in differences {
      let tail = difference.isVolatile ? " (volatile)" : ""
      func role(_ counted: ColorRole) -> ColorRole { difference.isVolatile ? .muted : counted }
      switch difference.change {
      case .added:
        lines.add("  ", styled("+ \(difference.path)", role(.added)), ": \(brief(difference.b))\(tail)")
      case .removed:
        lines.add("  ", styled("- \(difference.path)", role(.removed)), ": \(brief(difference.a))\(tail)")
      case .changed:
        lines.add(
          "  ", styled("~ \(difference.path)", role(.warning)),
          ": \(brief(difference.a)) -> \(brief(difference.b))\(tail)")
      }
    }
  }

  private static func addTensor(_ tensor: TensorComparison, options: DiffOptions, to lines: inout TerminalLines) {
    var name = tensor.name
    if let nameA = tensor.a?.name, let nameB = tensor.b?.name, nameA != nameB {
      name = rename(nameA, nameB)
    }
    let type = typeDescription(tensor.a, tensor.b)
    let note = tensor.note.map { " (\($0))" } ?? ""
    let counts = tensor.isDifference(comparingValues: options.compareValues)
    func line(_ mark: String, _ role: ColorRole, _ text: String) {
      lines.add("  ", styled("\(mark) \(name)", role), "  \(type): \(text)\(note)")
    }
    switch tensor.status {
    case .identical:
      break
    case .onlyInA: line("-", .removed, "only in A")
    case .onlyInB: line("+", .added, "only in B")
    case .dropped: line("-", .muted, "dropped by the conversion")
    case .added: line("+", .muted, "added by the conversion")
    case .shapeChanged: line("~", .warning, "shape changed")
    case .bytesNotRead: line("=", .muted, "same dtype and shape (bytes not read)")
    case .notComparable: line("~", .warning, "not comparable")
    case .equalValues: line("=", counts ? .warning : .muted, "equal in value")
    case .withinTolerance, .different:
      guard let statistics = tensor.statistics else {
        line("~", .warning, "contents differ")
        break
      }
      let shape = tensor.a?.shape ?? []
      let verdict =
        tensor.status == .withinTolerance
        ? "within tolerance"
        : "\(statistics.beyondTolerance) of \(statistics.elementCount) elements "
          + (options.compareValues ? "beyond tolerance" : "differ")
      line("~", counts ? .warning : .muted, verdict)
      var detail = "max |a-b| \(format(statistics.maxAbsDifference))"
      if let flat = statistics.maxAbsDifferenceIndex {
        detail += " at \(index(DiffReport.unravel(flat, shape: shape)))"
        if let x = statistics.aAtMax, let y = statistics.bAtMax {
          detail += " (a \(format(x)), b \(format(y)))"
        }
      }
      detail += ", mean |a-b| \(format(statistics.meanAbsDifference))"
      detail += ", rel L2 " + (statistics.relativeL2.map { format($0) } ?? "undefined (|a| = 0)")
      detail += ", cosine " + (statistics.cosineSimilarity.map { format($0) } ?? "undefined")
      lines.add("      \(detail)")
      if statistics.nonFiniteMismatches > 0 {
        lines.add("      \(statistics.nonFiniteMismatches) NaN/Inf mismatches")
      }
    }
  }

  /// A rename in git's style, sharing the common dotted suffix:
  /// `{midlayer => layers.0}.mlp.down_proj.weight`.
  static func rename(_ a: String, _ b: String) -> String {
    let partsA = a.split(separator: ".", omittingEmptySubsequences: false)
    let partsB = b.split(separator: ".", omittingEmptySubsequences: false)
    var common = 0
    while common < min(partsA.count, partsB.count) - 1
      && partsA[partsA.count - 1 - common] == partsB[partsB.count - 1 - common]
    {
      common += 1
    }
    guard common > 0 else { return "{\(a) => \(b)}" }
    let headA = partsA.dropLast(common).joined(separator: ".")
    let headB = partsB.dropLast(common).joined(separator: ".")
    return "{\(headA) => \(headB)}." + partsA.suffix(common).joined(separator: ".")
  }

  /// One line: the verdict and the counts behind it, e.g.
  /// `different: config 1 difference; tensors 11 identical, 1 differs, 1 only in B`. It ends the
  /// text and is the JSON document's `summary.line`.
  static func summaryLine(_ report: DiffReport) -> String {
    var sections: [String] = []
    func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)" + (n == 1 ? "" : "s") }
    func section(_ label: String, _ differences: [ConfigDifference]) {
      guard !differences.isEmpty else { return }
      let volatile = differences.filter(\.isVolatile).count
      sections.append(
        "\(label) " + count(differences.count, "difference") + (volatile > 0 ? " (\(volatile) volatile)" : ""))
    }
    section("config", report.configDifferences)
    section("metadata", report.metadataDifferences)
    section("manifest", report.manifestDifferences)
    let files = report.fileDifferences
    if !files.isEmpty {
      let counting = files.filter(\.isDifference).count
      sections.append(
        "files " + count(files.count, "difference")
          + (counting < files.count ? " (\(files.count - counting) not counted)" : ""))
    }
    let counts = report.statusCounts
    let parts = TensorComparison.Status.allCases.compactMap { status -> String? in
      guard let n = counts[status], n > 0 else { return nil }
      return "\(n) \(phrase(for: status, count: n))"
    }
    sections.append("tensors " + (parts.isEmpty ? "none" : parts.joined(separator: ", ")))
    let dtype = report.dtypeChanges
    if dtype > 0 { sections.append(count(dtype, "dtype change")) }
    return "\(report.result.rawValue): " + sections.joined(separator: "; ")
  }

  /// How a status reads after a count ("3 identical", "1 differs", "2 only in A").
  static func phrase(for status: TensorComparison.Status, count: Int) -> String {
    switch status {
    case .identical: return "identical"
    case .equalValues: return "equal in value"
    case .withinTolerance: return "within tolerance"
    case .different: return count == 1 ? "differs" : "differ"
    case .shapeChanged: return "shape changed"
    case .bytesNotRead: return "same dtype and shape (bytes not read)"
    case .notComparable: return "not comparable"
    case .onlyInA: return "only in A"
    case .onlyInB: return "only in B"
    case .dropped: return "dropped by the conversion"
    case .added: return "added by the conversion"
    }
  }

  private static func describe(_ side: DiffReport.SideSummary) -> String {
    var kind = side.kind
    if let algorithm = side.speculatorsAlgorithm { kind = "Speculators \(algorithm) \(kind)" }
    return "\(kind), \(side.tensorCount) tensors, \(size(side.tensorBytes)), \(side.fileCount) files"
  }

  private static func typeDescription(_ a: TensorComparison.Side?, _ b: TensorComparison.Side?) -> String {
    switch (a, b) {
    case (let a?, let b?):
      let dtype = a.dtype == b.dtype ? a.dtype.rawValue : "\(a.dtype.rawValue) -> \(b.dtype.rawValue)"
      let shape = a.shape == b.shape ? index(a.shape) : "\(index(a.shape)) -> \(index(b.shape))"
      return "\(dtype) \(shape)"
    case (let side?, nil), (nil, let side?):
      return "\(side.dtype.rawValue) \(index(side.shape))"
    case (nil, nil):
      return ""
    }
  }

  private static func index(_ values: [Int]) -> String {
    "[" + values.map(String.init).joined(separator: ", ") + "]"
  }

  /// A JSON value in compact form, cut to fit a terminal line.
  static func brief(_ value: JSONValue?) -> String {
    guard let value else { return "(absent)" }
    let text = JSONWriter.compact(value)
    return text.count > 60 ? String(text.prefix(57)) + "..." : text
  }

  /// A double with 6 significant digits (`%.6g`).
  static func format(_ value: Double) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var buffer = [CChar](repeating: 0, count: 48)
    let count = buffer.count
    _ = withVaList([value]) { arguments in
      buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, count, "%.6g", arguments) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// A byte count as every report spells it (``HumanUnits/bytes(_:)``).
  static func size(_ bytes: Int) -> String { HumanUnits.bytes(bytes) }

  /// `a -> b` in human sizes, with the exact byte counts when the human spellings are equal.
  static func sizeChange(_ a: Int, _ b: Int) -> String {
    let (x, y) = (size(a), size(b))
    return x == y ? "\(x) -> \(y) (\(a) -> \(b) bytes)" : "\(x) -> \(y)"
  }
}
