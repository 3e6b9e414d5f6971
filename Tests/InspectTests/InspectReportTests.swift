import Testing

@testable import Inspect

@Suite struct InspectReportTests {
  static func checkpoint(config: JSONValue?) -> Checkpoint {
    let files = [
      CheckpointFile(path: "/m/config.json", name: "config.json", size: 100, kind: .config),
      CheckpointFile(path: "/m/a.safetensors", name: "a.safetensors", size: 5000, kind: .safetensors),
      CheckpointFile(path: "/m/b.safetensors", name: "b.safetensors", size: 70, kind: .safetensors),
    ]
    let tensors = [
      TensorInfo(name: "w", dtype: .BF16, shape: [64, 32], file: "/m/a.safetensors", layout: .contiguous(offset: 8, length: 4096)),
      TensorInfo(name: "d2t", dtype: .I64, shape: [4], file: "/m/b.safetensors", layout: .contiguous(offset: 8, length: 32)),
      TensorInfo(name: "norm", dtype: .BF16, shape: [32], file: "/m/b.safetensors", layout: .contiguous(offset: 40, length: 64)),
    ]
    return Checkpoint(
      location: "/m/", directory: "/m", files: files, config: config,
      metadata: ["a.safetensors": ["format": "pt"]], tensors: tensors)
  }

  @Test func summarisesTensorsTotalsAndDTypes() {
    let report = Inspector.report(for: Self.checkpoint(config: nil))
    #expect(report.tensors.map(\.name) == ["d2t", "norm", "w"])
    #expect(report.tensors.map(\.file) == ["b.safetensors", "b.safetensors", "a.safetensors"])
    #expect(report.tensors.map(\.parameters) == [4, 32, 2048])
    #expect(report.tensors.map(\.bytes) == [32, 64, 4096])
    #expect(report.totals == .init(tensors: 3, parameters: 2084, bytes: 4192))
    #expect(report.dtypes.map(\.dtype) == [.BF16, .I64])
    #expect(report.dtypes.map(\.totals) == [.init(tensors: 2, parameters: 2080, bytes: 4160), .init(tensors: 1, parameters: 4, bytes: 32)])
    #expect(report.config == nil)
    #expect(report.detection.format == .unknown)
  }

  @Test func configSummaryReadsSpeculatorsAndMultimodalLayouts() {
    let speculators: JSONValue = [
      "architectures": ["Eagle3Speculator"], "speculators_model_type": "eagle3", "draft_vocab_size": 32000,
      "transformer_layer_config": [
        "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 1, "num_attention_heads": 32,
        "vocab_size": 128256, "torch_dtype": "bfloat16",
      ],
    ]
    let summary = InspectReport.ConfigSummary(config: speculators)
    #expect(summary.modelType == "llama")
    #expect(summary.architectures == ["Eagle3Speculator"])
    #expect(summary.hiddenSize == 4096)
    #expect(summary.numAttentionHeads == 32)
    #expect(summary.numKeyValueHeads == nil)
    #expect(summary.vocabSize == 128256)
    #expect(summary.draftVocabSize == 32000)
    #expect(summary.dtype == "bfloat16")
    #expect(summary.speculatorsModelType == "eagle3")

    let multimodal: JSONValue = [
      "model_type": "llama4", "text_config": ["hidden_size": 5120, "num_key_value_heads": 8, "dtype": "float16"],
    ]
    let nested = InspectReport.ConfigSummary(config: multimodal)
    #expect(nested.modelType == "llama4")
    #expect(nested.hiddenSize == 5120)
    #expect(nested.numKeyValueHeads == 8)
    #expect(nested.dtype == "float16")
    #expect(nested.speculatorsModelType == nil)
  }

  @Test func jsonHasEveryKeyInOrder() {
    let report = Inspector.report(for: Self.checkpoint(config: ["model_type": "llama"]))
    let json = report.json()
    #expect(json.objectMembers?.map(\.key) == [
      "location", "directory", "files", "config", "detection", "metadata", "tensors", "totals", "dtypes",
    ])
    #expect(json["config"]?["model_type"] == "llama")
    #expect(json["config"]?["hidden_size"] == .null)
    #expect(json["detection"] == report.detection.json())
    #expect(json["detection"]?["format"]?.stringValue == report.detection.format.rawValue)
    #expect(json["metadata"] == ["a.safetensors": ["format": "pt"]])
    #expect(json["tensors"]?.arrayValue?.first == [
      "name": "d2t", "dtype": "I64", "shape": [4], "parameters": 4, "bytes": 32, "file": "b.safetensors",
    ])
    #expect(json["files"]?.arrayValue?[1] == ["name": "a.safetensors", "size": 5000, "kind": "safetensors"])
  }

  @Test func textShowsSectionsAndFitsTheWidth() {
    let report = Inspector.report(for: Self.checkpoint(config: ["model_type": "llama", "architectures": ["A", "B"]]))
    let text = report.text(width: 60)
    #expect(text.hasPrefix("/m/\n  3 files, 3 tensors, 2,084 parameters (2.1K), 4.1 KiB\n\nFiles\n"))
    #expect(text.contains("Config (config.json)\n  model_type     llama\n  architectures  A, B\n\n"))
    #expect(text.contains("Detection\n  format:     \(report.detection.format.rawValue)"))
    #expect(text.contains("  evidence:\n"))
    #expect(text.contains("  a.safetensors: format=pt\n"))
    #expect(text.contains("  w     BF16   [64, 32]    2.0K  4.0 KiB  a.safetensors\n"))
    #expect(text.contains("By dtype\n  dtype  tensors  params     size\n  BF16         2    2.1K  4.1 KiB\n"))
    #expect(text.hasSuffix("\n"))
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 60 })
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

@Suite struct InspectReportJSONTextTests {
  @Test func jsonTextIsThePrettyRenderingOfJSON() {
    var report = Inspector.report(for: InspectReportTests.checkpoint(config: [
      "model_type": "llama", "architectures": [], "hidden_size": 64, "torch_dtype": "bfloat16",
    ]))
    report.tensors.append(
      .init(name: "scalar\\tab\u{1}é", dtype: .F32, shape: [], parameters: 1, bytes: 4, file: "a.safetensors"))
    report.tensors.append(
      .init(name: "big", dtype: .U8, shape: [10, 123_456_789, 0], parameters: 0, bytes: 0, file: "b.safetensors"))
    #expect(report.jsonText() == JSONWriter.pretty(report.json(), sortKeys: false))
  }

  @Test func emptyReportsMatchToo() {
    let empty = Inspector.report(for: Checkpoint(location: "x", directory: ".", files: [], config: nil, tensors: []))
    #expect(empty.jsonText() == JSONWriter.pretty(empty.json(), sortKeys: false))
    #expect(empty.jsonText().contains(#""tensors": [],"#))
  }
}

@Suite struct InspectReportLargeOutputTests {
  /// A report over `count` tensors in two files, with a few non-ASCII and escaped names.
  static func report(count: Int) -> InspectReport {
    var tensors: [TensorInfo] = []
    for index in 0..<count {
      let name = index % 97 == 0 ? "layers.\(index).\u{E9}\"q\"" : "model.layers.\(index).weight"
      let shape = index % 5 == 0 ? [] : [index % 7 + 1, 3]
      let length = checkedByteCount(shape: shape, dtype: .BF16) ?? 0
      tensors.append(
        TensorInfo(
          name: name, dtype: index % 3 == 0 ? .F32 : .BF16, shape: shape, file: index % 2 == 0 ? "/m/a" : "/m/b",
          layout: .contiguous(offset: 0, length: length)))
    }
    let files = [
      CheckpointFile(path: "/m/a", name: "a", size: 1, kind: .safetensors),
      CheckpointFile(path: "/m/b", name: "b", size: 1, kind: .safetensors),
    ]
    return Inspector.report(for: Checkpoint(location: "/m", directory: "/m", files: files, config: nil, tensors: tensors))
  }

  @Test(arguments: [1, 150, 1 << 20])
  func jsonInParallelBlocksIsThePrettyRendering(chunkSize: Int) {
    let report = Self.report(count: 1_000)
    var chunks: [[UInt8]] = []
    report.writeJSON(chunkSize: chunkSize) { chunks.append(Array($0)) }
    let expected = Array((JSONWriter.pretty(report.json(), sortKeys: false) + "\n").utf8)
    #expect(chunks.flatMap { $0 } == expected)
    #expect(chunkSize > 1 << 19 || chunks.count > 4)
  }

  @Test func textRenderedIntoOneBufferMatchesTheTableAlone() {
    let report = Self.report(count: 300)
    let text = report.text(width: 50)
    var table = TextTable(columns: [
      .init("name", flexible: true), .init("dtype"), .init("shape"), .init("params", .right), .init("size", .right),
      .init("file"),
    ])
    for tensor in report.tensors {
      table.append([
        tensor.name, tensor.dtype.rawValue, "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]",
        HumanUnits.count(tensor.parameters), HumanUnits.bytes(tensor.bytes), tensor.file,
      ])
    }
    #expect(text.contains("\nTensors (300)\n" + table.render(width: 50) + "\n\nBy dtype\n"))
    var appended = Array("head\n".utf8)
    table.render(width: 50, into: &appended)
    #expect(String(decoding: appended, as: UTF8.self) == "head\n" + table.render(width: 50))
  }

  @Test(arguments: [
    "plain ascii\nwith\ttabs", "em — dash, é, ü, 漢字, 😀", "c0 \u{1B}[2J", "del \u{7F}", "c1 \u{85} \u{9F}",
    "bidi \u{200E} \u{200F} \u{202A} \u{202E} \u{2066} \u{2069}", "near misses \u{A0} \u{200D} \u{2029} \u{202F} \u{206A}",
    "cr\r\n",
  ])
  func terminalEscapingDecidesAsScalarsDo(text: String) {
    for keeping in [false, true] {
      let unsafe = text.unicodeScalars.contains { scalar in
        switch scalar.value {
        case 0x0A, 0x09: return !keeping
        case 0..<0x20, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
      }
      let escaped = TerminalText.escaped(text, keepingLineBreaks: keeping)
      #expect((escaped != text) == unsafe, "\(text.debugDescription) keeping \(keeping)")
    }
  }
}

@Suite struct CheckpointLookupTests {
  typealias S = SyntheticDrafts

  @Test func findsTheFirstOfEqualNamesAndSortsOnce() {
    let checkpoint = S.checkpoint([S.tensor("c", [3]), S.tensor("a", [1]), S.tensor("b", [2]), S.tensor("a", [4])])
    #expect(checkpoint.tensors.map(\.name) == ["a", "a", "b", "c"])
    #expect(checkpoint.tensor(named: "a")?.shape == [1])
    #expect(checkpoint.tensor(named: "c")?.shape == [3])
    #expect(checkpoint.tensor(named: "d") == nil)
    #expect(checkpoint.tensor(named: "") == nil)
    let sorted = S.checkpoint([S.tensor("a", [1]), S.tensor("b", [2])])
    #expect(sorted.tensors.map(\.name) == ["a", "b"])
    #expect(sorted.tensor(named: "b")?.shape == [2])
  }
}

@Suite struct TextTableRenderingTests {
  /// Expected renderings were produced by the row-by-row implementation this one replaced.
  @Test func raggedRowsRenderAsBefore() {
    var table = TextTable(columns: [.init("a"), .init("b", .right)])
    table.append(["x"])
    table.append(["yy", "1", "extra"])
    table.append([])
    #expect(table.render(width: nil) == "  a   b\n  x    \n  yy  1\n       ")
  }

  @Test func wideAndNonASCIICellsRenderAsBefore() {
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

  @Test func manyRowsAcrossBlocksMatchTheRowByRowRendering() {
    var table = TextTable(columns: [.init("name", flexible: true), .init("size", .right)])
    for index in 0..<(TextTable.rowsPerBlock * 2 + 7) {
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
    // FNV-1a of the whole rendering by the row-by-row implementation.
    var hash: UInt64 = 1_469_598_103_934_665_603
    for byte in rendered.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    #expect(rendered.utf8.count == 852_635)
    #expect(hash == 14_916_214_260_746_295_134)
  }

  @Test func lineWriterStopsAtItsCapacity() {
    let bytes = [UInt8](unsafeUninitializedCapacity: 4) { buffer, count in
      var writer = LineWriter(buffer: buffer)
      writer.text("ab")
      writer.spaces(1)
      #expect(!writer.overflowed)
      writer.text("cd")
      #expect(writer.overflowed)
      writer.byte(0x41)
      count = writer.count
    }
    #expect(bytes == Array("ab ".utf8))
  }
}
