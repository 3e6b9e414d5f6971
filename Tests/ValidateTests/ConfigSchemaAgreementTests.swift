import Foundation
import Testing

@testable import Inspect
@testable import Validate

enum ConfigSchema {
  static var url: URL {
    CheckCatalogueTests.packageRoot.appendingPathComponent("schemas/speculators-config.schema.json")
  }
  static var available: Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// The Swift config checks and `schemas/speculators-config.schema.json` (written by the convert
/// work) agree: configs the schema rejects get config errors from verify, and the reference
/// configs pass both.
@Suite(.enabled(if: ConfigSchema.available, "schemas/speculators-config.schema.json is not in the tree yet"))
struct ConfigSchemaAgreementTests {
  struct Mutation: Sendable, CustomTestStringConvertible {
    var name: String
    var base: @Sendable () -> DraftSpec = { DraftFixtures.eagle3() }
    /// Whether the schema catches it (every mutation here; the flag stays for mutations only the
    /// Swift checks can see).
    var schemaCatches = true
    var mutate: @Sendable (inout DraftSpec) -> Void
    var testDescription: String { name }
  }

  static let rejected: [Mutation] = [
    Mutation(name: "no speculators_model_type") { $0.setConfig("speculators_model_type", nil) },
    Mutation(name: "speculators_config null") { $0.setConfig("speculators_config", .null) },
    Mutation(name: "no proposal_type") {
      $0.setConfig("speculators_config.proposal_methods", [["speculative_tokens": 3]])
    },
    Mutation(name: "unknown proposal_type") {
      $0.setConfig(
        "speculators_config.proposal_methods", [["proposal_type": "beam", "speculative_tokens": 3]])
    },
    Mutation(name: "speculative_tokens 0") {
      $0.setConfig(
        "speculators_config.proposal_methods", [["proposal_type": "greedy", "speculative_tokens": 0]])
    },
    Mutation(name: "no verifier.architectures") {
      $0.setConfig("speculators_config.verifier.architectures", nil)
    },
    Mutation(name: "empty name_or_path") { $0.setConfig("speculators_config.verifier.name_or_path", "") },
    Mutation(name: "norm_before_residual not a boolean") { $0.setConfig("norm_before_residual", "false") },
    Mutation(name: "draft_vocab_size 0") { $0.setConfig("draft_vocab_size", 0) },
    Mutation(name: "aux ids not integers") { $0.setConfig("eagle_aux_hidden_state_layer_ids", ["2", "16"]) },
    Mutation(name: "hidden_size 0") { $0.setConfig("transformer_layer_config.hidden_size", 0) },
    Mutation(name: "rms_norm_eps negative") { $0.setConfig("transformer_layer_config.rms_norm_eps", -1.0) },
    Mutation(name: "norm_before_fc and fc_norm") {
      $0.setConfig("norm_before_fc", true)
      $0.setConfig("fc_norm", true)
    },
    Mutation(name: "algorithm differs from the type") {
      $0.setConfig("speculators_config.algorithm", "eagle")
    },
    Mutation(name: "eagle without layer model_type", base: { DraftFixtures.eagle() }) {
      $0.setConfig("transformer_layer_config.model_type", nil)
    },
  ]

  static let configIDs: Set<CheckID> = [
    .configRequiredKeys, .configKeyTypes, .configModelType, .configModelTypeAlgorithm, .configFlagExclusive,
    .configLayerModelType,
  ]

  @Test(arguments: rejected)
  func schemaRejectionsAreConfigErrors(_ mutation: Mutation) throws {
    var spec = mutation.base()
    mutation.mutate(&spec)
    let mutated = spec
    let config = try #require(mutated.config)
    if mutation.schemaCatches {
      #expect(try SchemaValidation.errors(config, schema: "speculators-config.schema.json") != "")
    }
    let (report, _) = try runTrip(
      Trip(
        name: mutation.name, id: .configRequiredKeys, severity: .error, mentions: [], base: { mutated },
        verifier: nil))
    let errors = report.findings.filter { Self.configIDs.contains($0.check) && $0.severity == .error }
    #expect(!errors.isEmpty, "\(report.findings.map(\.message))")
  }

  @Test(arguments: [
    "eagle1-bin", "eagle-safetensors", "hass-layernorms", "eagle3-bin", "eagle3-embed", "eagle3-2layer",
  ])
  func referenceConfigsPassBoth(case name: String) throws {
    let url = CheckCatalogueTests.packageRoot.appendingPathComponent("Fixtures/reference/\(name)/config.json")
    let config = try StrictJSONParser.parse(Array(Data(contentsOf: url)))
    #expect(try SchemaValidation.errors(config, schema: "speculators-config.schema.json") == "")
    let spec = DraftSpec(config: config, tensors: [])
    let (report, _) = try runTrip(
      Trip(name: name, id: .configRequiredKeys, severity: .error, mentions: [], base: { spec }, verifier: nil)
    )
    let configFindings = report.findings.filter {
      $0.check.rawValue.hasPrefix("config.") && $0.check != .configVLLMSupport
    }
    #expect(configFindings.isEmpty, "\(configFindings.map(\.message))")
  }
}
