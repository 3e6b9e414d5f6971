import Inspect
import Testing

@Suite("AuditManifest")
struct AuditManifestTests {
  static let sha = String(repeating: "ab", count: 32)
  static let xxh = String(repeating: "cd", count: 16)

  static func sample() -> AuditManifest {
    AuditManifest(
      options: .init(
        algorithm: "eagle3", algorithmKwargs: ["norm_before_residual": true], maxShardSize: 5_000_000_000,
        outputPath: "converted"),
      source: .init(
        given: "Fixtures/eagle3-bin", resolvedPath: "/abs/eagle3-bin", format: "eagle3-safeailab",
        files: [
          .init(name: "pytorch_model.bin", size: 10, sha256: sha),
          .init(name: "config.json", size: 3, sha256: sha),
        ]),
      verifier: .init(
        given: "Fixtures/verifier", resolvedPath: "/abs/verifier", configSHA256: sha,
        embeddingsFile: "model-00001-of-00002.safetensors"),
      tensors: [
        .init(
          name: "fc.weight", dtype: .F16, shape: [64, 192], file: "model.safetensors", xxh3: xxh,
          source: .init(origin: .draft, name: "fc.weight", dtype: .F16, xxh3: xxh)),
        .init(
          name: "embed_tokens.weight", dtype: .F16, shape: [512, 64], file: "model.safetensors", xxh3: xxh,
          source: .init(origin: .verifier, name: "model.embed_tokens.weight", dtype: .BF16, xxh3: xxh)),
        .init(
          name: "fusion_fc.bias", dtype: .F16, shape: [64], file: "model.safetensors", xxh3: xxh,
          source: .init(origin: .synthesized, fill: "zeros")),
      ],
      dropped: [.init(name: "embed_tokens.weight", reason: "eagle drafts take embeddings from the verifier")],
      files: [
        .init(name: "model.safetensors", size: 5, sha256: sha),
        .init(name: "config.json", size: 2, sha256: sha),
      ])
  }

  @Test("JSON round trip is lossless and sorted")
  func roundTrip() throws {
    let manifest = Self.sample()
    let json = manifest.json()
    let parsed = try AuditManifest(json: json)
    #expect(parsed == manifest)
    #expect(parsed.tensors.map(\.name) == ["embed_tokens.weight", "fc.weight", "fusion_fc.bias"])
    #expect(parsed.files.map(\.name) == ["config.json", "model.safetensors"])
    #expect(json["tool"]?["version"]?.stringValue == ToolInfo.version)
    #expect(json["options"]?["dtype"]?.isNull == true)
    #expect(json["tensors"]?.arrayValue?[2]["source"]?["fill"]?.stringValue == "zeros")
    let text = manifest.text()
    #expect(text.hasSuffix("}\n"))
    #expect(try AuditManifest(json: StrictJSONParser.parse(Array(text.utf8))) == manifest)
  }

  @Test("a missing or mistyped field is reported by its JSON path")
  func errors() {
    let json = Self.sample().json()
    let missing = #expect(throws: CheckpointError.self) { try AuditManifest(json: json.removing("files")) }
    #expect(missing?.reason == "manifest: missing 'files'")
    let badDigest = json.setting("verifier", to: json["verifier"]!.setting("config_sha256", to: "xyz"))
    let digestError = #expect(throws: CheckpointError.self) { try AuditManifest(json: badDigest) }
    #expect(digestError?.reason == "verifier.config_sha256: must be 64 lowercase hex digits")
    var tensors = json["tensors"]!.arrayValue!
    tensors[1] = tensors[1].setting("dtype", to: "F17")
    let dtypeError = #expect(throws: CheckpointError.self) {
      try AuditManifest(json: json.setting("tensors", to: .array(tensors)))
    }
    #expect(dtypeError?.reason == "tensors[1].dtype: unknown dtype 'F17'")
    let version = #expect(throws: CheckpointError.self) {
      try AuditManifest(json: json.setting("manifest_version", to: 2))
    }
    #expect(version?.kind == .unsupported)
  }
}
