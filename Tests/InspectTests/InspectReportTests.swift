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
