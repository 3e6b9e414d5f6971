import Convert
import Inspect
import Validate

/// Human rendering of a ``ConversionReport``: the summary on stdout, its warnings on stderr.
enum ConvertRendering {
  /// The report's stdout part: heading, verifier, flags, the file table (human sizes, aligned as
  /// inspect aligns it), tensors, dropped tensors and the validation in verify's format.
  static func lines(_ report: ConversionReport, width: Int? = nil) -> TerminalLines {
    var out = TerminalLines()
    out.add(
      styled(
        "Converted \(report.source.given) (\(report.sourceFormat)) → \(report.outputPath) "
          + "[\(report.algorithm.rawValue)]", .heading))
    out.add("  verifier: \(report.verifier.given)")
    let flagText = report.flags.map { "\($0.key)=\(JSONWriter.compact($0.value))" }.joined(separator: " ")
    if !flagText.isEmpty { out.add("  flags: \(flagText)") }
    out.add(styled("Files", .heading))
    var table = TextTable(columns: [.init("name", flexible: true), .init("size", .right), .init("sha256")])
    for file in NaturalOrder.sorted(report.files, by: \.name) {
      table.append([file.name, HumanUnits.bytes(file.size), file.sha256])
    }
    for line in table.render(width: width).split(separator: "\n", omittingEmptySubsequences: false) {
      out.add(Piece(String(line)))
    }
    out.add(styled("Tensors (\(report.tensors.count))", .heading))
    for tensor in NaturalOrder.sorted(report.tensors, by: \.name) {
      let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
      var from: String
      switch tensor.origin {
      case .draft: from = tensor.sourceName == tensor.name ? "" : "← \(tensor.sourceName ?? "?")"
      case .verifier: from = "← verifier \(tensor.sourceName ?? "?")"
      case .synthesized: from = "(synthesised)"
      }
      if let sourceDType = tensor.sourceDType, sourceDType != tensor.dtype {
        from += " cast from \(sourceDType.rawValue)"
      }
      out.add(Piece(trimmingTrailingSpaces("  \(tensor.name)  \(tensor.dtype.rawValue) \(shape)  \(from)")))
    }
    if !report.dropped.isEmpty {
      out.add(styled("Dropped (\(report.dropped.count))", .heading))
      for drop in NaturalOrder.sorted(report.dropped, by: \.name) { out.add("  \(drop.name): \(drop.reason)") }
    }
    if let validation = report.validation {
      out.add(styled("Validation (\(validation.device))", .heading))
      if let verify = validation.report {
        var body = VerifyRendering.lines(verify)
        body.indent("  ")
        out.append(body)
      } else {
        for check in validation.checks { out.add("  ok: \(check)") }
      }
      for note in validation.notes { out.add(styled("  note: \(note)", .muted)) }
    }
    out.add(styled("Serving (vLLM \(report.serving.vllmVersion))", .heading))
    if let commands = report.serving.commands {
      out.add("  \(commands.serve)")
      out.add("  \(commands.speculativeConfig)")
    } else {
      out.add("  not served: \(report.serving.refusal ?? "")")
      if let alternative = report.serving.alternative { out.add("  instead: \(alternative)") }
    }
    return out
  }

  /// The report's warnings, one `warning:` line each, for stderr.
  static func warnings(_ report: ConversionReport) -> TerminalLines {
    var out = TerminalLines()
    for warning in report.warnings { out.add(styled("warning:", .warning), " \(warning)") }
    return out
  }

  private static func trimmingTrailingSpaces(_ text: String) -> String {
    var text = text
    while text.hasSuffix(" ") { text.removeLast() }
    return text
  }
}
