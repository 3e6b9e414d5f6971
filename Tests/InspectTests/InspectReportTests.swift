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

@Suite struct TerminalTextTests {
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
