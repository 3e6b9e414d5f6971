import Inspect
import Platform

/// The role of a piece of text in the terminal rendering of a ``DiffReport``; the executable
/// maps roles to colours (or to nothing when colour is off).
public enum DiffTextStyle: Sendable {
  /// A section heading.
  case heading
  /// Something present in B only.
  case added
  /// Something present in A only.
  case removed
  /// Something present in both, different.
  case changed
  /// Something different that does not count (volatile, formatting, explained by the mapping).
  case muted
  /// The verdict when the checkpoints are identical or equal.
  case good
  /// The verdict when they differ.
  case bad
}

extension DiffReport {
  /// The report for a terminal: one line per difference, values truncated to fit, identical
  /// tensors counted rather than listed, and the summary line last.
  ///
  /// - Parameter style: decorates a piece of text for its role (colour); identity by default.
  public func renderText(style: (String, DiffTextStyle) -> String = { text, _ in text }) -> String {
    var lines: [String] = []
    lines.append("A  \(a.path)  (\(Self.describe(a)))")
    lines.append("B  \(b.path)  (\(Self.describe(b)))")
    var pairing = "Pairing: \(mapping.description)"
    if let side = mapping.sourceSide { pairing += " (\(side.uppercased()) is the source)" }
    lines.append(pairing)
    lines.append(
      options.compareValues
        ? "Compared: values, within rtol \(Self.format(options.relativeTolerance)) "
          + "atol \(Self.format(options.absoluteTolerance))"
        : "Compared: exact (bytes); values examined where bytes differ")

    if let configNote {
      lines.append("")
      lines.append(style("Config:", .heading) + " \(configNote)")
    }
    renderDifferences("Config", configDifferences, into: &lines, style: style)
    renderDifferences("Metadata", metadataDifferences, into: &lines, style: style)
    renderDifferences("Manifest", manifestDifferences, into: &lines, style: style)

    if !fileDifferences.isEmpty {
      lines.append("")
      lines.append(style("Files:", .heading) + " \(fileDifferences.count) difference" + (fileDifferences.count == 1 ? "" : "s"))
      for file in fileDifferences {
        let muted = !file.isDifference
        switch file.change {
        case .onlyInA:
          lines.append("  " + style("- \(file.name)", .removed) + " (only in A, \(Self.size(file.aSize ?? 0)))")
        case .onlyInB:
          lines.append("  " + style("+ \(file.name)", .added) + " (only in B, \(Self.size(file.bSize ?? 0)))")
        case .sizeChanged:
          lines.append(
            "  " + style("~ \(file.name)", muted ? .muted : .changed)
              + ": \(file.aSize ?? 0) -> \(file.bSize ?? 0) bytes" + (file.note.map { " (\($0))" } ?? ""))
        case .contentChanged:
          lines.append(
            "  " + style("~ \(file.name)", muted ? .muted : .changed) + ": same size, SHA-256 differs"
              + (file.note.map { " (\($0))" } ?? ""))
        }
      }
    }

    lines.append("")
    let identical = tensors.filter { $0.status == .identical }.count
    lines.append(
      style("Tensors:", .heading) + " \(tensors.count) (\(identical) identical"
        + (a.kind == "manifest" || b.kind == "manifest" ? " by digest" : "") + ")")
    var shown: [TensorComparison.Status: Int] = [:]
    for tensor in tensors where tensor.status != .identical {
      shown[tensor.status, default: 0] += 1
      if shown[tensor.status, default: 0] <= Self.linesPerStatus {
        lines.append(contentsOf: renderTensor(tensor, style: style))
      }
    }
    for status in TensorComparison.Status.allCases {
      let hidden = (shown[status] ?? 0) - Self.linesPerStatus
      if hidden > 0 {
        lines.append("  ... \(hidden) more \(Self.phrase(for: status, count: hidden)) (all are listed by --json)")
      }
    }

    lines.append("")
    lines.append(style(summaryLine, result == .different ? .bad : .good))
    return lines.joined(separator: "\n") + "\n"
  }

  private func renderDifferences(
    _ title: String, _ differences: [ConfigDifference], into lines: inout [String],
    style: (String, DiffTextStyle) -> String
  ) {
    guard !differences.isEmpty else { return }
    lines.append("")
    let volatile = differences.filter(\.isVolatile).count
    lines.append(
      style("\(title):", .heading) + " \(differences.count) difference" + (differences.count == 1 ? "" : "s")
        + (volatile > 0 ? " (\(volatile) volatile)" : ""))
    for difference in differences {
      let tail = difference.isVolatile ? " (volatile)" : ""
      switch difference.change {
      case .added:
        lines.append(
          "  " + style("+ \(difference.path)", difference.isVolatile ? .muted : .added) + ": "
            + Self.brief(difference.b) + tail)
      case .removed:
        lines.append(
          "  " + style("- \(difference.path)", difference.isVolatile ? .muted : .removed) + ": "
            + Self.brief(difference.a) + tail)
      case .changed:
        lines.append(
          "  " + style("~ \(difference.path)", difference.isVolatile ? .muted : .changed) + ": "
            + Self.brief(difference.a) + " -> " + Self.brief(difference.b) + tail)
      }
    }
  }

  private func renderTensor(_ tensor: TensorComparison, style: (String, DiffTextStyle) -> String) -> [String] {
    var name = tensor.name
    if let nameA = tensor.a?.name, let nameB = tensor.b?.name, nameA != nameB {
      name = Self.rename(nameA, nameB)
    }
    let type = Self.typeDescription(tensor.a, tensor.b)
    let note = tensor.note.map { " (\($0))" } ?? ""
    var lines: [String] = []
    switch tensor.status {
    case .identical:
      break
    case .onlyInA:
      lines.append("  " + style("- \(name)", .removed) + "  \(type): only in A" + note)
    case .onlyInB:
      lines.append("  " + style("+ \(name)", .added) + "  \(type): only in B" + note)
    case .dropped:
      lines.append("  " + style("- \(name)", .muted) + "  \(type): dropped by the conversion" + note)
    case .added:
      lines.append("  " + style("+ \(name)", .muted) + "  \(type): added by the conversion" + note)
    case .shapeChanged:
      lines.append("  " + style("~ \(name)", .changed) + "  \(type): shape changed" + note)
    case .notComparable:
      lines.append("  " + style("~ \(name)", .changed) + "  \(type): not comparable" + note)
    case .equalValues:
      let counts = tensor.isDifference(comparingValues: options.compareValues)
      lines.append("  " + style("= \(name)", counts ? .changed : .muted) + "  \(type): equal in value" + note)
    case .withinTolerance, .different:
      let counts = tensor.isDifference(comparingValues: options.compareValues)
      guard let statistics = tensor.statistics else {
        lines.append("  " + style("~ \(name)", .changed) + "  \(type): contents differ" + note)
        break
      }
      let shape = tensor.a?.shape ?? []
      let verdict =
        tensor.status == .withinTolerance
        ? "within tolerance"
        : "\(statistics.beyondTolerance) of \(statistics.elementCount) elements "
          + (options.compareValues ? "beyond tolerance" : "differ")
      lines.append("  " + style("~ \(name)", counts ? .changed : .muted) + "  \(type): \(verdict)" + note)
      var detail = "max |a-b| \(Self.format(statistics.maxAbsDifference))"
      if let flat = statistics.maxAbsDifferenceIndex {
        detail += " at \(Self.index(DiffReport.unravel(flat, shape: shape)))"
        if let x = statistics.aAtMax, let y = statistics.bAtMax {
          detail += " (a \(Self.format(x)), b \(Self.format(y)))"
        }
      }
      detail += ", mean |a-b| \(Self.format(statistics.meanAbsDifference))"
      detail += ", rel L2 " + (statistics.relativeL2.map { Self.format($0) } ?? "undefined (|a| = 0)")
      detail += ", cosine " + (statistics.cosineSimilarity.map { Self.format($0) } ?? "undefined")
      lines.append("      " + detail)
      if statistics.nonFiniteMismatches > 0 {
        lines.append("      \(statistics.nonFiniteMismatches) NaN/Inf mismatches")
      }
    }
    return lines
  }

  /// Tensor lines shown per status before the rest are counted.
  static let linesPerStatus = 20

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

  private static func describe(_ side: SideSummary) -> String {
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

  /// A byte count in binary units (`512 B`, `1.5 KiB`, `3.0 GiB`), as every report spells it.
  public static func size(_ bytes: Int) -> String {
    HumanUnits.bytes(bytes)
  }
}
