import Foundation
import Testing

@testable import Inspect

@Suite struct ExpectedTensorsTests {
  static func json(_ relative: String) throws -> JSONValue {
    try StrictJSONParser.parse(
      Array(Data(contentsOf: HashingTestSupport.fixtures.appendingPathComponent(relative))))
  }

  /// Names and shapes of a fixture's tensors from `expected/<case>.json`.
  static func fixtureTensors(_ name: String) throws -> [String: [Int]] {
    var out: [String: [Int]] = [:]
    for (tensor, entry) in try json("expected/\(name).json")["tensors"]?.objectMembers ?? [] {
      out[tensor] = entry["shape"]?.arrayValue?.compactMap(\.intValue)
    }
    return out
  }

  /// Tensors a table says must be present (required, or governed by an enabled flag).
  static func mandatory(_ table: ExpectedTensors.TensorSet) -> [String] {
    table.tensors.filter {
      switch $0.presence {
      case .required: return true
      case .flag(_, let enabled): return enabled
      case .optional, .vocabMap: return false
      }
    }.map(\.name)
  }

  static func expectMatches(_ table: ExpectedTensors.TensorSet, _ tensors: [String: [Int]], _ label: String) {
    for (name, shape) in tensors {
      let expected = table.tensor(named: name)
      #expect(expected != nil, "\(label): \(name) not in the table")
      #expect(
        expected?.shapes.contains(shape) == true, "\(label): \(name) \(shape) vs \(expected?.shapes ?? [])")
    }
    for name in mandatory(table) {
      #expect(tensors[name] != nil, "\(label): required \(name) absent from the fixture")
    }
  }

  /// What Python speculators 0.1.0 wrote is exactly what the table of its own config expects.
  @Test(arguments: [
    "eagle1-bin", "eagle-safetensors", "hass-layernorms", "eagle3-bin", "eagle3-embed", "eagle3-2layer",
  ])
  func referenceConversionsMatchTheirConfigsTable(case name: String) throws {
    let table = try ExpectedTensors.speculators(config: Self.json("reference/\(name)/config.json"))
    let tensors = try Self.fixtureTensors("reference/\(name)")
    Self.expectMatches(table, tensors, name)
    #expect(table.layout.isSpeculators)
  }

  @Test(arguments: [
    ("eagle1-bin", ExpectedTensors.Layout.eagle1Source), ("eagle-safetensors", .eagle1Source),
    ("hass-layernorms", .eagle1Source), ("hass-bias", .eagle1Source), ("eagle3-bin", .eagle3MidlayerSource),
    ("eagle3-embed", .eagle3MidlayerSource), ("modelopt-v1", .eagle3MidlayerSource),
    ("eagle3-2layer", .eagle3Source),
    ("modelopt-v2", .eagle3Source), ("pickle-named-safetensors", .eagle3ResearchSource),
  ])
  func rawSourcesMatchTheirLayoutTable(case name: String, layout: ExpectedTensors.Layout) throws {
    let table = try ExpectedTensors.source(layout, config: Self.json("\(name)/config.json"))
    Self.expectMatches(table, try Self.fixtureTensors(name), name)
  }

  @Test func nemoPrefixedDraftMatchesTheLayersTableOnceTheWrapperPrefixIsStripped() throws {
    let table = try ExpectedTensors.source(.eagle3Source, config: Self.json("eagle3-prefixed/config.json"))
    var tensors: [String: [Int]] = [:]
    for (name, shape) in try Self.fixtureTensors("eagle3-prefixed") {
      tensors[name.hasPrefix("model.") ? String(name.dropFirst(6)) : name] = shape
    }
    Self.expectMatches(table, tensors, "eagle3-prefixed")
    #expect(tensors["lm_head.weight"] == [512, 64])  // full-vocab head: DV = V
  }

  @Test func trainedMultiLayerEagle3LayoutFeedsLaterLayersH() throws {
    var config = try Self.json("reference/eagle3-bin/config.json")
    let layer = try #require(config["transformer_layer_config"])
    config = config.setting("transformer_layer_config", to: layer.setting("num_hidden_layers", to: 3))
    let table = try ExpectedTensors.speculators(config: config)
    #expect(table.tensor(named: "layers.0.self_attn.q_proj.weight")?.shapes == [[64, 128]])
    #expect(table.tensor(named: "layers.2.self_attn.k_proj.weight")?.shapes == [[32, 64]])
    #expect(table.tensor(named: "layers.2.hidden_norm.weight") == nil)
    #expect(table.tensor(named: "layers.2.input_layernorm.weight")?.presence == .required)
    #expect(table.tensor(named: "layers.3.input_layernorm.weight") == nil)
    #expect(table.layerIndex(of: "layers.12.mlp.up_proj.weight") == 12)
    #expect(table.layerIndex(of: "layers.01.mlp.up_proj.weight") == nil)
    #expect(table.layerIndex(of: "layersX.mlp") == nil)
  }

  @Test func flagsAndAuxCountShapeTheTable() throws {
    let base = try Self.json("reference/eagle3-bin/config.json")
    let config = base.setting("fc_norm", to: true).setting(
      "eagle_aux_hidden_state_layer_ids", to: [1, 2, 3, 4]
    )
    .setting(
      "transformer_layer_config",
      to: (base["transformer_layer_config"] ?? [:]).setting("model_type", to: "qwen3"))
    let table = try ExpectedTensors.speculators(config: config)
    #expect(table.geometry.auxStateCount == 4)
    #expect(table.tensor(named: "fc.weight")?.shapes == [[64, 256]])
    #expect(table.tensor(named: "fc_norm.3.weight")?.presence == .flag(.fcNorm, enabled: true))
    #expect(table.tensor(named: "input_norm.weight")?.presence == .flag(.normBeforeFC, enabled: false))
    #expect(table.tensor(named: "layers.0.self_attn.q_norm.weight")?.shapes == [[16]])
    #expect(
      table.tensor(named: "layers.0.self_attn.q_norm.weight")?.presence == .flag(.qkNorm, enabled: true))
  }

  @Test func targetHiddenSizeWidensFc() throws {
    let config = try Self.json("reference/eagle3-bin/config.json").setting("target_hidden_size", to: 96)
    let table = try ExpectedTensors.speculators(config: config)
    #expect(table.geometry.targetHiddenSize == 96)
    #expect(table.tensor(named: "fc.weight")?.shapes == [[64, 288], [64, 192]])
  }

  @Test func missingGeometryOrUnknownTypeIsUnavailable() throws {
    let config = try Self.json("reference/eagle3-bin/config.json")
    let layer = try #require(config["transformer_layer_config"])
    #expect {
      try ExpectedTensors.speculators(
        config: config.setting("transformer_layer_config", to: layer.removing("hidden_size")))
    } throws: { ($0 as? ExpectedTensors.Unavailable)?.keys == ["transformer_layer_config.hidden_size"] }
    #expect {
      try ExpectedTensors.speculators(config: config.setting("speculators_model_type", to: "independent"))
    } throws: { ($0 as? ExpectedTensors.Unavailable)?.reason.contains("'independent'") == true }
  }
}
