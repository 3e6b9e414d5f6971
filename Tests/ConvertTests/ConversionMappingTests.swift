import Inspect
import Testing

@Suite("ConversionMapping")
struct ConversionMappingTests {
  let eagleNames = [
    "embed_tokens.weight", "fc.weight", "fc.bias", "layers.0.self_attn.q_proj.weight",
    "layers.0.mlp.down_proj.weight", "layers.0.post_attention_layernorm.weight",
  ]

  @Test("eagle: fc → fusion_fc, layers.0 → transformer, embed_tokens dropped, fusion_bias detected")
  func eagleBasics() throws {
    let plan = try ConversionMapping.plan(tensorNames: eagleNames, algorithm: .eagle, location: "src")
    #expect(plan.outputName(for: "fc.weight") == "fusion_fc.weight")
    #expect(plan.outputName(for: "fc.bias") == "fusion_fc.bias")
    #expect(plan.outputName(for: "layers.0.mlp.down_proj.weight") == "transformer.mlp.down_proj.weight")
    #expect(plan.outputName(for: "embed_tokens.weight") == nil)
    #expect(plan.dropped.map(\.name) == ["embed_tokens.weight"])
    #expect(plan.dropped[0].reason == "eagle drafts take embeddings from the verifier")
    #expect(plan.flags.fusionBias && !plan.flags.layernorms)
    #expect(plan.synthesized.isEmpty)
  }

  @Test("eagle HASS: the three norms map as the reference converter maps them")
  func hassNorms() throws {
    let names =
      eagleNames + ["embed_layernorm.weight", "hidden_layernorm.weight", "lm_head_layernorm.weight"]
    let plan = try ConversionMapping.plan(tensorNames: names, algorithm: .eagle, location: "src")
    #expect(plan.flags.layernorms)
    #expect(plan.outputName(for: "embed_layernorm.weight") == "embedding_layernorm.weight")
    #expect(plan.outputName(for: "hidden_layernorm.weight") == "transformer.input_layernorm.weight")
    #expect(plan.outputName(for: "lm_head_layernorm.weight") == "pre_lm_head_layernorm.weight")
    #expect(plan.synthesized.isEmpty)
  }

  @Test("eagle: post_embedding_layernorm turns layernorms on and maps to embedding_layernorm")
  func postEmbeddingNorm() throws {
    let plan = try ConversionMapping.plan(
      tensorNames: eagleNames + ["post_embedding_layernorm.weight"], algorithm: .eagle, location: "src")
    #expect(plan.flags.layernorms)
    #expect(plan.outputName(for: "post_embedding_layernorm.weight") == "embedding_layernorm.weight")
    #expect(
      Set(plan.synthesized.map(\.output)) == [
        "transformer.input_layernorm.weight", "pre_lm_head_layernorm.weight",
      ])
    #expect(plan.synthesized.allSatisfy { $0.fill == .ones })
  }

  @Test("eagle: forced flags synthesise a zero bias and ones norms, never turn detected flags off")
  func forcedFlags() throws {
    let names = eagleNames.filter { $0 != "fc.bias" }
    let forced = try ConversionMapping.plan(
      tensorNames: names, algorithm: .eagle, options: .init(layernorms: true, fusionBias: true),
      location: "src")
    #expect(forced.flags.fusionBias && forced.flags.layernorms)
    #expect(forced.synthesized.first { $0.output == "fusion_fc.bias" }?.fill == .zeros)
    #expect(forced.synthesized.filter { $0.fill == .ones }.count == 3)
    let detected = try ConversionMapping.plan(
      tensorNames: eagleNames, algorithm: .eagle, options: .init(fusionBias: false), location: "src")
    #expect(detected.flags.fusionBias)
  }

  @Test("eagle: hidden_layernorm without layernorms is dropped with a warning, as the reference does")
  func hiddenNormDropped() throws {
    let plan = try ConversionMapping.plan(
      tensorNames: eagleNames + ["hidden_layernorm.weight"], algorithm: .eagle, location: "src")
    #expect(plan.dropped.contains { $0.name == "hidden_layernorm.weight" && !$0.requested })
    #expect(plan.warnings.contains { $0.contains("hidden_layernorm.weight") })
  }

  @Test("unknown tensors are an error naming them, unless dropping is allowed")
  func unknownTensors() throws {
    let names = eagleNames + ["mystery.weight", "layers.1.mlp.up_proj.weight"]
    let error = #expect(throws: CheckpointError.self) {
      try ConversionMapping.plan(tensorNames: names, algorithm: .eagle, location: "draft-dir")
    }
    #expect(error?.file == "draft-dir")
    #expect(error?.reason.contains("2 tensors cannot be placed in the eagle layout") == true)
    #expect(error?.reason.contains("'mystery.weight'") == true)
    #expect(error?.reason.contains("--allow-drop") == true)
    let allowed = try ConversionMapping.plan(
      tensorNames: names, algorithm: .eagle, options: .init(allowDrop: ["mystery.weight", "layers.1.*"]),
      location: "d")
    #expect(
      allowed.dropped.filter(\.requested).map(\.name) == ["layers.1.mlp.up_proj.weight", "mystery.weight"])
    let all = try ConversionMapping.plan(
      tensorNames: names, algorithm: .eagle, options: .init(dropUnknown: true), location: "d")
    #expect(all.dropped.filter(\.requested).count == 2)
  }

  @Test("an --allow-drop pattern that matches nothing is an error")
  func allowDropTypo() {
    let error = #expect(throws: UsageError.self) {
      try ConversionMapping.plan(
        tensorNames: eagleNames, algorithm: .eagle, options: .init(allowDrop: ["fc.wieght"]), location: "d")
        .checked()
    }
    #expect(error?.description == "d: --allow-drop 'fc.wieght' matches no tensor of the source")
  }

  @Test("eagle3: midlayer → layers.0, maps and heads kept, embeddings requested from the verifier")
  func eagle3Basics() throws {
    let names = [
      "midlayer.self_attn.q_proj.weight", "midlayer.hidden_norm.weight", "midlayer.input_layernorm.weight",
      "fc.weight", "norm.weight", "lm_head.weight", "d2t", "t2d",
    ]
    let plan = try ConversionMapping.plan(tensorNames: names, algorithm: .eagle3, location: "src")
    #expect(plan.outputName(for: "midlayer.self_attn.q_proj.weight") == "layers.0.self_attn.q_proj.weight")
    #expect(plan.outputName(for: "d2t") == "d2t")
    #expect(plan.outputName(for: "t2d") == "t2d")
    #expect(plan.verifierTensors == ["embed_tokens.weight"])
    #expect(plan.flags.layerCount == 1)
    #expect(plan.dropped.isEmpty)
    #expect(plan.outputNames.contains("embed_tokens.weight"))
  }

  @Test("eagle3: every layer of a multi-layer draft is kept; gaps are an error")
  func eagle3Layers() throws {
    let names = [
      "layers.0.hidden_norm.weight", "layers.1.mlp.up_proj.weight", "fc.weight", "lm_head.weight",
      "embed_tokens.weight",
    ]
    let plan = try ConversionMapping.plan(tensorNames: names, algorithm: .eagle3, location: "src")
    #expect(plan.flags.layerCount == 2)
    #expect(plan.outputName(for: "layers.1.mlp.up_proj.weight") == "layers.1.mlp.up_proj.weight")
    #expect(plan.verifierTensors.isEmpty)
    let gap = #expect(throws: CheckpointError.self) {
      try ConversionMapping.plan(
        tensorNames: ["layers.0.hidden_norm.weight", "layers.2.mlp.up_proj.weight"], algorithm: .eagle3,
        location: "s")
    }
    #expect(gap?.reason == "decoder layers are not numbered 0..<3: layer 1 missing")
  }

  @Test("eagle3: midlayer and layers.0 of the same tensor collide")
  func eagle3Collision() {
    let error = #expect(throws: CheckpointError.self) {
      try ConversionMapping.plan(
        tensorNames: ["midlayer.hidden_norm.weight", "layers.0.hidden_norm.weight"], algorithm: .eagle3,
        location: "s")
    }
    #expect(error?.tensor == "layers.0.hidden_norm.weight")
    #expect(error?.reason.contains("both") == true)
  }

  @Test("eagle3: input_norm / fc_norm set their flags only when they reach the output")
  func eagle3Flags() throws {
    let names = ["layers.0.hidden_norm.weight", "fc.weight", "input_norm.weight", "fc_norm.0.weight"]
    let plan = try ConversionMapping.plan(tensorNames: names, algorithm: .eagle3, location: "s")
    #expect(plan.flags.normBeforeFC && plan.flags.fcNorm)
    let dropped = try ConversionMapping.plan(
      tensorNames: names, algorithm: .eagle3, options: .init(allowDrop: ["input_norm.weight"]), location: "s")
    #expect(!dropped.flags.normBeforeFC && dropped.flags.fcNorm)
  }
}
