import Inspect
import Testing

@testable import speculators

/// The human rendering of `inspect` and the table and unit spellings every command shares.
@Suite struct InspectRenderingTests {
  /// Three files (a config and two weights files) and three tensors spread over the two.
  static func report(config: JSONValue?) -> InspectReport {
    let files = [("config.json", 100, CheckpointFileKind.config), ("a.safetensors", 5000, .safetensors),
                 ("b.safetensors", 70, .safetensors)]
      .map { CheckpointFile(path: "/m/" + $0.0, name: $0.0, size: $0.1, kind: $0.2) }
    let tensors = [("w", DType.BF16, [64, 32], "a", 8, 4096), ("d2t", .I64, [4], "b", 8, 32), ("norm", .BF16, [32], "b", 40, 64)]
      .map {
        TensorInfo(
          name: $0.0, dtype: $0.1, shape: $0.2, file: "/m/\($0.3).safetensors", layout: .contiguous(offset: $0.4, length: $0.5))
      }
    let checkpoint = Checkpoint(
      location: "/m/", directory: "/m", files: files, config: config, metadata: ["a.safetensors": ["format": "pt"]],
      tensors: tensors)
    return Inspector.report(for: checkpoint)
  }

  static func text(_ report: InspectReport, width: Int?, color: Bool = false) -> String {
    InspectRendering.lines(report, width: width).rendered(color: color)
  }

  @Test func textShowsSectionsAndFitsTheWidth() {
    let report = Self.report(config: ["model_type": "llama", "architectures": ["A", "B"]])
    let text = Self.text(report, width: 60)
    #expect(text.hasPrefix("/m/\n  3 files, 3 tensors, 2,084 parameters (2.1K), 4.1 KiB\n\nFiles\n"))
    #expect(text.contains("Config (config.json)\n  model_type     llama\n  architectures  A, B\n\n"))
    #expect(text.contains("Detection\n  format:     \(report.detection.format.rawValue)"))
    #expect(text.contains("  evidence:\n"))
    #expect(text.contains("  a.safetensors: format=pt\n"))
    #expect(text.contains("  w     BF16   [64, 32]    2.0K  4.0 KiB  a.safetensors\n"))
    #expect(text.contains("By dtype\n  dtype  tensors  params     size\n  BF16         2    2.1K  4.1 KiB\n"))
    #expect(text.hasSuffix(" B\n") && !text.hasSuffix("\n\n"))
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 60 })
  }

  @Test func headingsTakeTheHeadingColour() {
    let text = Self.text(Self.report(config: nil), width: nil, color: true)
    #expect(text.contains("\u{1B}[1mFiles\u{1B}[0m\n"))
    #expect(text.contains("\u{1B}[1mConfig\u{1B}[0m\n  no config.json\n"))
    #expect(text.contains("\u{1B}[1mTensors (3)\u{1B}[0m\n"))
  }

  @Test func untrustedNamesAreEscapedLineByLine() {
    var report = Self.report(config: nil)
    report.tensors[0].name = "evil\u{1B}[2J\nforged line\u{202E}"
    let text = Self.text(report, width: nil)
    #expect(text.contains("evil\\x1b[2J\\x0aforged line\\u{202E}"))
    #expect(!text.contains("\nforged line"))
  }

  @Test func emptyCheckpointsSayNone() {
    let empty = Inspector.report(for: Checkpoint(location: "x", directory: ".", files: [], config: nil, tensors: []))
    let text = Self.text(empty, width: nil)
    #expect(text.contains("\n\nTensors (0)\n  (none)\n"))
    #expect(!text.contains("By dtype"))
  }

  /// An EAGLE-3 draft as the SafeAILab trainer writes it (or SpecForge: the same names).
  static let eagle3Detection = Detection(
    format: .eagle3SafeAILab, confidence: 0.8, signature: "midlayer.* tensors, fc.weight [64, 192] = 3×hidden",
    evidence: ["midlayer.* tensors", "t2d [512] BOOL present"], alternatives: [.eagle3SpecForge],
    facts: DetectedFacts(
      hiddenSize: 64, vocabSize: 512, draftVocabSize: 128, decoderLayers: 1, fcInputWidth: 192, auxStateCount: 3,
      d2tPresent: true, t2dPresent: true, weightsDType: .F16),
    conversion: .algorithm(.eagle3))

  @Test func detectionLeadsWithFormatAlgorithmSignatureAndFacts() {
    let lines = InspectRendering.detectionLines(Self.eagle3Detection)
    #expect(
      lines == [
        "format:     eagle3-safeailab — EAGLE-3 draft written by SafeAILab (confidence 0.80)",
        "algorithm:  eagle3",
        "signature:  midlayer.* tensors, fc.weight [64, 192] = 3×hidden",
        "facts:      hidden 64, vocab 512, draft vocab 128, 1 decoder layer, fc in 192 (3 aux states), "
          + "embeddings no, d2t yes, t2d yes, fusion bias no, layernorms no, weights F16",
        "could be:   eagle3-specforge",
        "evidence:",
        "  - midlayer.* tensors",
        "  - t2d [512] BOOL present",
      ])
  }

  @Test func detectionWithoutAnAlgorithmShowsTheReasonPrefixAndNotes() {
    var detection = Self.eagle3Detection
    detection.conversion = .none(reason: "this is a base model, not a draft; pass it as --verifier")
    detection.strippedPrefix = "model."
    detection.notes = ["config says 2 layers"]
    detection.facts = DetectedFacts(targetHiddenSize: 4096, decoderLayers: 2, fcInputWidth: 8, auxStateCount: 1)
    let lines = InspectRendering.detectionLines(detection)
    #expect(lines[1] == "algorithm:  none — this is a base model, not a draft; pass it as --verifier")
    #expect(
      lines[3] == "facts:      target hidden 4096, 2 decoder layers, fc in 8 (1 aux state), "
        + "embeddings no, d2t no, t2d no, fusion bias no, layernorms no")
    #expect(lines[4] == "prefix:     \"model.\" stripped from tensor names")
    #expect(lines.suffix(2) == ["notes:", "  - config says 2 layers"])
  }

  @Test func confidenceHasTwoDecimals() {
    #expect(InspectRendering.confidence(0.5) == "0.50")
    #expect(InspectRendering.confidence(0.05) == "0.05")
    #expect(InspectRendering.confidence(1) == "1.00")
    #expect(InspectRendering.confidence(0.6666) == "0.67")
  }

  @Test func longNamesAreShortenedInTheMiddle() {
    var table = TextTable(columns: [.init("name", flexible: true), .init("size", .right)])
    table.append(["model.layers.31.self_attn.q_proj.weight", "1.0 KiB"])
    let rendered = table.render(width: 30)
    #expect(rendered == "  name                    size\n  model.l…proj.weight  1.0 KiB")
    #expect(rendered.split(separator: "\n").allSatisfy { $0.count <= 30 })
    #expect(table.render(width: nil).contains("model.layers.31.self_attn.q_proj.weight"))
    #expect(TextTable.shorten("abcdefghij", to: 6) == "ab…hij")
  }

  @Test func raggedRowsRender() {
    var table = TextTable(columns: [.init("a"), .init("b", .right)])
    table.append(["x"])
    table.append(["yy", "1", "extra"])
    table.append([])
    #expect(table.render(width: nil) == "  a   b\n  x    \n  yy  1\n       ")
  }

  @Test func wideAndNonASCIICellsRender() {
    var table = TextTable(columns: [.init("name", flexible: true), .init("n", .right), .init("f")])
    table.append(["model.layers.31.self_attn.q_proj.weight", "12", "é"])
    table.append(["短い名前", "3", "x"])
    table.append(["a\u{301}bc", "", "long file name"])
    let narrow = "  name               n  f\n  model.…oj.weight  12  é\n  短い名前               3  x\n  ábc                   long file name"
    #expect(table.render(width: 30) == narrow)
    #expect(table.render(width: 12) == narrow)
    #expect(
      table.render(width: nil)
        == "  name                                      n  f\n  model.layers.31.self_attn.q_proj.weight  12  é\n"
        + "  短い名前                                      3  x\n  ábc                                          long file name")
  }

  @Test func tablesWithoutColumnsStillHaveALinePerRow() {
    var table = TextTable(columns: [])
    table.append(["q"])
    table.append([])
    #expect(table.render(width: 5) == "  \n  \n  ")
  }

  @Test func manyRowsRenderAsTheEarlierBlockRenderingDid() {
    var table = TextTable(columns: [.init("name", flexible: true), .init("size", .right)])
    for index in 0..<(16_384 * 2 + 7) {
      table.append(["t\(index)" + String(repeating: "x", count: index % 23), "\(index % 1000)"])
    }
    let rendered = table.render(width: 20)
    let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == table.rows.count + 1)
    #expect(lines[0] == "  name              size")
    #expect(lines[1] == "  t0                   0")
    #expect(lines[23] == "  t22xxx…xxxxxxxxx    22")
    #expect(lines[32774] == "  t32773…xxxxxxxxx   773")
    #expect(lines.allSatisfy { $0.count == 24 })
    // FNV-1a of the whole rendering.
    var hash: UInt64 = 1_469_598_103_934_665_603
    for byte in rendered.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    #expect(rendered.utf8.count == 852_635)
    #expect(hash == 14_916_214_260_746_295_134)
  }

  @Test(arguments: [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (64 << 20, "64.0 MiB"),
    (16_060_522_496, "15.0 GiB"),
  ])
  func bytesInBinaryUnits(count: Int, text: String) {
    #expect(HumanUnits.bytes(count) == text)
  }

  @Test(arguments: [(999, "999"), (32768, "32.8K"), (1_250_000, "1.3M"), (1_240_000, "1.2M"), (8_030_261_248, "8.0B")])
  func countsInDecimalUnits(count: Int, text: String) {
    #expect(HumanUnits.count(count) == text)
  }

  @Test(arguments: [(0, "0"), (999, "999"), (1000, "1,000"), (1_234_567, "1,234,567"), (-4200, "-4,200")])
  func groupedThousands(value: Int, text: String) {
    #expect(HumanUnits.grouped(value) == text)
  }
}
