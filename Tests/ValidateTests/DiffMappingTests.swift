import Foundation
import Inspect
import Testing

@testable import Validate

/// Source drafts against their conversions, with and without the conversion renames, and
/// conversions against their audit manifests.
@Suite(.diffScratch) struct DiffMappingTests {
  static let eagle3SourceConfig: JSONValue = [
    "architectures": ["LlamaForCausalLMEagle3"], "draft_vocab_size": 4, "hidden_size": 8, "torch_dtype": "bfloat16",
  ]

  /// A SafeAILab-style EAGLE-3 draft in BF16: `midlayer.*`, no embeddings.
  static func eagle3Source() -> [TestTensor] {
    [
      .bf16("fc.weight", [8, 24], exactValues(192)),
      .bf16("midlayer.mlp.down_proj.weight", [8, 16], exactValues(128, offset: 5)),
      .bf16("norm.weight", [8], exactValues(8, offset: 11)),
    ] + DiffScenario.vocabMaps
  }

  /// What a float32 conversion of ``eagle3Source()`` holds, embeddings copied from a verifier.
  static func eagle3Conversion() -> [TestTensor] {
    [
      .f32("embed_tokens.weight", [16, 8], exactValues(128, offset: 40)),
      .f32("fc.weight", [8, 24], exactValues(192)),
      .f32("layers.0.mlp.down_proj.weight", [8, 16], exactValues(128, offset: 5)),
      .f32("norm.weight", [8], exactValues(8, offset: 11)),
    ] + DiffScenario.vocabMaps
  }

  private func write(_ tensors: [TestTensor], config: JSONValue) throws -> Checkpoint {
    try TestCheckpoints.write([("model.safetensors", tensors)], config: config, in: try TestCheckpoints.directory())
  }

  @Test func eagle3SourceAgainstItsConversionPairsEveryCounterpart() throws {
    let source = try write(Self.eagle3Source(), config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let report = try CheckpointDiffer.diff(source, conversion, options: DiffOptions(values: true))
    #expect(report.mapping.applied)
    #expect(report.mapping.algorithm == "eagle3")
    #expect(report.mapping.sourceSide == "a")
    #expect(report.mapping.basis == "rules")
    let pairs = report.tensors.map { "\($0.a?.name ?? "-") => \($0.b?.name ?? "-"): \($0.status.rawValue)" }
    #expect(
      pairs == [
        "d2t => d2t: identical",
        "- => embed_tokens.weight: added",
        "fc.weight => fc.weight: equal-values",
        "midlayer.mlp.down_proj.weight => layers.0.mlp.down_proj.weight: equal-values",
        "norm.weight => norm.weight: equal-values",
        "t2d => t2d: identical",
      ])
    #expect(report.tensors.allSatisfy { !$0.isDifference(comparingValues: true) })
    #expect(report.tensors.first { $0.status == .added }?.note == "copied from the verifier's weights: the draft has none")
    // The configs are of different kinds and are reported as they are.
    #expect(report.result == .different)
    #expect(report.configDifferences.contains { $0.path == "$.speculators_model_type" && $0.change == .added })
    let down = report.tensors.first { $0.a?.name == "midlayer.mlp.down_proj.weight" }
    #expect(down?.b?.name == "layers.0.mlp.down_proj.weight" && down?.status == .equalValues)
    #expect(down?.a?.dtype == .BF16 && down?.b?.dtype == .F32)
  }

  @Test func theSourceMayBeEitherSide() throws {
    let source = try write(Self.eagle3Source(), config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let report = try CheckpointDiffer.diff(conversion, source, options: DiffOptions())
    #expect(report.mapping.sourceSide == "b")
    let renamed = try #require(report.tensors.first { $0.b?.name == "midlayer.mlp.down_proj.weight" })
    #expect(renamed.a?.name == "layers.0.mlp.down_proj.weight")
    #expect(renamed.status == .equalValues)
  }

  @Test func withoutMappingTheRenamesShowAsOnlyInAAndB() throws {
    let source = try write(Self.eagle3Source(), config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let report = try CheckpointDiffer.diff(source, conversion, options: DiffOptions(mapping: .none))
    #expect(!report.mapping.applied)
    #expect(report.tensors.filter { $0.status == .onlyInA }.map(\.name) == ["midlayer.mlp.down_proj.weight"])
    #expect(
      report.tensors.filter { $0.status == .onlyInB }.map(\.name)
        == ["embed_tokens.weight", "layers.0.mlp.down_proj.weight"])
  }

  @Test func eagleRenamesAndDropsEmbeddings() throws {
    let source = try write(
      [
        .f16("embed_tokens.weight", [16, 8], exactValues(128)),
        .f16("fc.bias", [8], exactValues(8)),
        .f16("fc.weight", [8, 16], exactValues(128, offset: 3)),
        .f16("layers.0.post_attention_layernorm.weight", [8], exactValues(8, offset: 9)),
        .f16("layers.0.self_attn.q_proj.weight", [8, 8], exactValues(64, offset: 2)),
      ], config: ["architectures": ["LlamaForCausalLM"], "hidden_size": 8])
    let conversion = try write(
      [
        .f32("fusion_fc.bias", [8], exactValues(8)),
        .f32("fusion_fc.weight", [8, 16], exactValues(128, offset: 3)),
        .f32("transformer.post_attention_layernorm.weight", [8], exactValues(8, offset: 9)),
        .f32("transformer.self_attn.q_proj.weight", [8, 8], exactValues(64, offset: 2)),
      ], config: ["speculators_model_type": "eagle", "layernorms": false, "fusion_bias": true])
    let report = try CheckpointDiffer.diff(source, conversion, options: DiffOptions(values: true))
    #expect(report.mapping.algorithm == "eagle")
    let dropped = try #require(report.tensors.first { $0.status == .dropped })
    #expect(dropped.name == "embed_tokens.weight")
    #expect(dropped.note == "eagle drafts take embeddings from the verifier")
    let counterparts = report.tensors.filter { $0.a != nil && $0.b != nil }
    #expect(counterparts.count == 4)
    #expect(counterparts.allSatisfy { $0.status == .equalValues })
    #expect(counterparts.map { $0.b?.name ?? "" }.sorted() == [
      "fusion_fc.bias", "fusion_fc.weight", "transformer.post_attention_layernorm.weight",
      "transformer.self_attn.q_proj.weight",
    ])
  }

  @Test func aSourceTensorTheConversionLacksIsOnlyInTheSource() throws {
    let source = try write(
      Self.eagle3Source() + [.bf16("midlayer.extra.weight", [2], [1, 2]), .bf16("midlayer.mlp.up_proj.weight", [2], [1, 2])],
      config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let report = try CheckpointDiffer.diff(source, conversion, options: DiffOptions(values: true))
    let unknown = try #require(report.tensors.first { $0.name == "midlayer.extra.weight" })
    #expect(unknown.status == .onlyInA)
    #expect(unknown.note == "not part of the eagle3 layout")
    let missing = try #require(report.tensors.first { $0.name == "midlayer.mlp.up_proj.weight" })
    #expect(missing.status == .onlyInA)
    #expect(missing.note == "the conversion has no layers.0.mlp.up_proj.weight")
  }

  @Test func renamesThatCannotApplyFallBackToNames() throws {
    // Two source tensors for one output name: the shared rules refuse, so names are paired as is.
    let source = try write(
      Self.eagle3Source() + [.bf16("layers.0.mlp.down_proj.weight", [8, 16], exactValues(128, offset: 5))],
      config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let report = try CheckpointDiffer.diff(source, conversion, options: DiffOptions())
    #expect(!report.mapping.applied)
    #expect(report.mapping.description.hasPrefix("tensors paired by name (the eagle3 renames do not apply: both "))
  }

  // MARK: audit manifests

  /// The audit manifest of `conversion`, converted from `source` (names per eagle3 rules).
  static func manifest(
    of conversion: Checkpoint, tensors: [TestTensor], source: [TestTensor], outputPath: String = "converted"
  ) throws -> AuditManifest {
    let sourceByTarget = Dictionary(
      source.map { ($0.name.hasPrefix("midlayer.") ? "layers.0." + $0.name.dropFirst(9) : $0.name, $0) },
      uniquingKeysWith: { first, _ in first })
    let entries = tensors.map { tensor in
      let origin: AuditManifest.TensorSource
      if let from = sourceByTarget[tensor.name] {
        origin = .init(origin: .draft, name: from.name, dtype: from.dtype, xxh3: TestCheckpoints.digest(from))
      } else {
        origin = .init(
          origin: .verifier, name: "model.embed_tokens.weight", dtype: .F32, xxh3: TestCheckpoints.digest(tensor))
      }
      return AuditManifest.Tensor(
        name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, file: "model.safetensors",
        xxh3: TestCheckpoints.digest(tensor), source: origin)
    }
    let files = try conversion.files.map { file in
      AuditManifest.FileDigest(name: file.name, size: file.size, sha256: try CheckpointHasher.sha256(ofFile: file.path))
    }
    let zeros = String(repeating: "0", count: 64)
    return AuditManifest(
      options: .init(algorithm: "eagle3", maxShardSize: 5_000_000_000, outputPath: outputPath),
      source: .init(given: "draft", resolvedPath: "/somewhere/draft", format: "eagle3-safeailab", files: []),
      verifier: .init(given: "verifier", resolvedPath: "/somewhere/verifier", configSHA256: zeros),
      tensors: entries, dropped: [], files: files)
  }

  private func manifestSide(_ manifest: AuditManifest) throws -> DiffSide {
    let path = try TestCheckpoints.directory().appendingPathComponent(AuditManifest.fileName).path
    try Data(manifest.text().utf8).write(to: URL(fileURLWithPath: path))
    return try DiffSide.open(path)
  }

  @Test func aConversionMatchesItsManifest() throws {
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let manifest = try Self.manifest(of: conversion, tensors: Self.eagle3Conversion(), source: Self.eagle3Source())
    let report = try CheckpointDiffer.diff(
      try DiffSide(checkpoint: conversion), try manifestSide(manifest), options: DiffOptions(), reader: TensorReader())
    #expect(report.b.kind == "manifest")
    #expect(report.configNote != nil)
    #expect(report.tensors.count == 6)
    #expect(report.tensors.allSatisfy { $0.status == .identical })
    #expect(report.fileDifferences.isEmpty)
    #expect(report.result == .identical)
  }

  @Test func aTamperedTensorOrConfigDisagreesWithTheManifest() throws {
    let original = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let manifest = try Self.manifest(of: original, tensors: Self.eagle3Conversion(), source: Self.eagle3Source())
    var tensors = Self.eagle3Conversion()
    tensors[3] = .f32("norm.weight", [8], exactValues(8, offset: 12))
    let tampered = try write(tensors, config: DiffScenario.config.setting("draft_vocab_size", to: 5))
    let report = try CheckpointDiffer.diff(
      try DiffSide(checkpoint: tampered), try manifestSide(manifest), options: DiffOptions(), reader: TensorReader())
    let norm = try #require(report.tensors.first { $0.name == "norm.weight" })
    #expect(norm.status == .different)
    #expect(norm.note == "digests differ; a manifest holds no values")
    #expect(report.fileDifferences.map(\.name) == ["config.json"])
    #expect(report.result == .different)
  }

  @Test func aSourceMatchesTheDigestsItsConversionsManifestRecorded() throws {
    let source = try write(Self.eagle3Source(), config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let manifest = try Self.manifest(of: conversion, tensors: Self.eagle3Conversion(), source: Self.eagle3Source())
    let report = try CheckpointDiffer.diff(
      try DiffSide(checkpoint: source), try manifestSide(manifest), options: DiffOptions(), reader: TensorReader())
    #expect(report.mapping.basis == "manifest")
    let counterparts = report.tensors.filter { $0.a != nil && $0.b != nil }
    #expect(counterparts.count == 5)
    #expect(counterparts.allSatisfy { $0.status == .identical })
    #expect(counterparts.allSatisfy { $0.note == "compared with the manifest's digest of its source tensor" })
    #expect(report.tensors.first { $0.status == .added }?.name == "embed_tokens.weight")
  }

  @Test func aManifestInsideTheConversionProvidesTheRenames() throws {
    let source = try write(Self.eagle3Source(), config: Self.eagle3SourceConfig)
    let conversion = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let manifest = try Self.manifest(of: conversion, tensors: Self.eagle3Conversion(), source: Self.eagle3Source())
    let withManifest = try TestCheckpoints.adding(
      manifest.text(), named: AuditManifest.fileName, kind: .manifest, to: conversion)
    let report = try CheckpointDiffer.diff(source, withManifest, options: DiffOptions(values: true))
    #expect(report.mapping.basis == "manifest")
    #expect(report.tensors.first { $0.a?.name == "midlayer.mlp.down_proj.weight" }?.status == .equalValues)
    #expect(report.tensors.first { $0.status == .added }?.note == "copied from the verifier (model.embed_tokens.weight)")
  }

  @Test func synthesisedAndDroppedTensorsInAManifestAreExplained() throws {
    var manifest = try Self.manifest(
      of: try write(Self.eagle3Conversion(), config: DiffScenario.config), tensors: Self.eagle3Conversion(),
      source: Self.eagle3Source())
    manifest.tensors.append(
      AuditManifest.Tensor(
        name: "fc_norm.0.weight", dtype: .F32, shape: [8], file: "model.safetensors",
        xxh3: String(repeating: "0", count: 32), source: .init(origin: .synthesized, fill: "ones")))
    manifest.dropped = [.init(name: "extra.weight", reason: "dropped at the user's request (--allow-drop)")]
    let plan = CounterpartMapping.recorded(in: manifest, path: "/x/speculators-manifest.json")
    #expect(plan.added["fc_norm.0.weight"] == "made by the converter, filled with ones")
    #expect(plan.added["embed_tokens.weight"] == "copied from the verifier (model.embed_tokens.weight)")
    #expect(plan.dropped == ["extra.weight": "dropped at the user's request (--allow-drop)"])
    #expect(plan.targetOfSource["midlayer.mlp.down_proj.weight"] == "layers.0.mlp.down_proj.weight")
    #expect(plan.basis == .manifest)
    #expect(plan.description == "renames recorded in speculators-manifest.json")
  }

  @Test func manifestsOfTwoRunsDifferOnlyInVolatilePaths() throws {
    let first = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let second = try write(Self.eagle3Conversion(), config: DiffScenario.config)
    let a = try TestCheckpoints.adding(
      try Self.manifest(of: first, tensors: Self.eagle3Conversion(), source: Self.eagle3Source()).text(),
      named: AuditManifest.fileName, kind: .manifest, to: first)
    let b = try TestCheckpoints.adding(
      try Self.manifest(of: second, tensors: Self.eagle3Conversion(), source: Self.eagle3Source(), outputPath: "out2")
        .text(),
      named: AuditManifest.fileName, kind: .manifest, to: second)
    let report = try CheckpointDiffer.diff(a, b, options: DiffOptions())
    #expect(report.manifestDifferences.map(\.path) == ["$.options.output_path"])
    #expect(report.manifestDifferences.allSatisfy { $0.isVolatile })
    #expect(report.result == .identical)
  }

  @Test func malformedManifestsAreRefusedWithTheirPath() throws {
    let path = try TestCheckpoints.directory().appendingPathComponent(AuditManifest.fileName).path
    try Data(#"{"manifest_version": 2, "tensors": []}"#.utf8).write(to: URL(fileURLWithPath: path))
    #expect(throws: CheckpointError(.unsupported, file: path, reason: "manifest_version 2 is not supported (expected 1)")) {
      try DiffSide.open(path)
    }
  }
}
