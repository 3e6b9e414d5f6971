import Foundation
import Inspect
import Testing

/// `convert` on the DFlash, Qwen3 and EAGLE-3.1 fixtures of `scripts/make_format_fixtures.py`,
/// against what speculators 0.9.0 writes for them (`Fixtures/reference-0.9.0`).
@Suite("convert DFlash, Qwen3 and EAGLE-3.1 drafts")
struct FormatConversionEndToEndTests {
  private func convert(_ name: String, _ extra: [String] = []) throws -> (CommandResult, URL) {
    let output = try TestPaths.temporaryDirectory().appendingPathComponent("out")
    let result = try runSpeculators(
      ["convert", "Fixtures/\(name)", "--algorithm", "auto", "--verifier", "Fixtures/verifier", "--output-path",
       output.path] + extra,
      environment: ["NO_COLOR": "1"], workingDirectory: TestPaths.packageRoot)
    return (result, output)
  }

  private func json(_ url: URL) throws -> JSONValue {
    try StrictJSONParser.parse([UInt8](Data(contentsOf: url)))
  }

  /// name → XXH3-128 of a committed ground-truth record.
  private func digests(_ record: String) throws -> [String: String] {
    let document = try json(TestPaths.fixtures.appendingPathComponent("expected/\(record).json"))
    var out: [String: String] = [:]
    for (name, info) in document["tensors"]?.objectMembers ?? [] { out[name] = info["xxh3_128"]?.stringValue }
    return out
  }

  private func writtenDigests(_ output: URL) throws -> [String: String] {
    let written = try CheckpointReader.open(output.path)
    let reader = TensorReader()
    var out: [String: String] = [:]
    for tensor in written.tensors {
      var hasher = XXH3Hasher()
      try reader.forEachChunk(of: tensor) { hasher.update($0) }
      out[tensor.name] = hasher.finalizeHex()
    }
    return out
  }

  @Test("a z-lab DFlash draft converts to what speculators 0.9.0 writes, tensor for tensor",
        arguments: ["dflash-zlab", "dflash-fused-qkv"])
  func dflash(name: String) throws {
    let (result, output) = try convert(name)
    #expect(result.status == 0, "\(result.stderr)")
    // Same names and bytes as the reference (q/k/v split from qkv_proj, fc columns sliced).
    #expect(try writtenDigests(output) == digests("reference-0.9.0/\(name)"))
    let config = try json(output.appendingPathComponent("config.json"))
    let reference = try json(TestPaths.fixtures.appendingPathComponent("reference-0.9.0/\(name)/config.json"))
    for key in [
      "speculators_model_type", "architectures", "aux_hidden_state_layer_ids", "block_size", "draft_vocab_size",
      "mask_token_id", "sample_from_anchor", "target_hidden_size", "speculators_config",
    ] {
      #expect(config[key] == reference[key], "\(key)")
    }
    #expect(config["aux_hidden_state_layer_ids"] == [1, 2, 3])
    #expect(config["speculators_config"]?["proposal_methods"]?.arrayValue?.first?["speculative_tokens"] == 3)
    #expect(config["sliding_window_non_causal"] == true)  // 0.9.0: false (every layer causal in vLLM)
    // transformer_layer_config: the source config minus the five DFlash keys.
    let source = try json(TestPaths.fixtures.appendingPathComponent("\(name)/config.json"))
    let dropped: Set<String> = ["architectures", "auto_map", "block_size", "dflash_config", "num_target_layers"]
    let expected = JSONValue.object((source.objectMembers ?? []).filter { !dropped.contains($0.key) })
    #expect(config["transformer_layer_config"] == expected)
    let verify = try runSpeculators(
      ["verify", output.path, "--verifier", "Fixtures/verifier"], workingDirectory: TestPaths.packageRoot)
    #expect(verify.status == 0, "\(verify.stdout)")
  }

  @Test("a Qwen3 EAGLE-3 draft keeps q_norm/k_norm and model_type qwen3 (0.9.0 drops them)")
  func qwen3() throws {
    let (result, output) = try convert("eagle3-qwen3")
    #expect(result.status == 0, "\(result.stderr)")
    let written = try writtenDigests(output)
    let source = try digests("eagle3-qwen3")
    #expect(written["layers.0.self_attn.q_norm.weight"] == source["midlayer.self_attn.q_norm.weight"])
    #expect(written["layers.0.self_attn.k_norm.weight"] == source["midlayer.self_attn.k_norm.weight"])
    let config = try json(output.appendingPathComponent("config.json"))
    #expect(config["transformer_layer_config"]?["model_type"] == "qwen3")
    #expect(config["transformer_layer_config"]?["head_dim"] == 16)
    #expect(config["torch_dtype"] == "bfloat16")  // the source config says `dtype`
    let reference = try json(TestPaths.fixtures.appendingPathComponent("reference-0.9.0/eagle3-qwen3/config.json"))
    #expect(reference["transformer_layer_config"]?["model_type"] == "llama")
  }

  @Test("EAGLE-3.1: norm_before_fc with input_norm, norm_output, layer 1 reads H, KV heads = heads")
  func normBeforeFC() throws {
    let (result, output) = try convert("eagle3-norm-before-fc")
    #expect(result.status == 0, "\(result.stderr)")
    let checkpoint = try CheckpointReader.open(output.path)
    #expect(checkpoint.tensor(named: "input_norm.weight")?.shape == [192])
    #expect(checkpoint.tensor(named: "layers.1.self_attn.q_proj.weight")?.shape == [64, 64])
    #expect(checkpoint.tensor(named: "layers.0.self_attn.k_proj.weight")?.shape == [64, 128])
    let config = try json(output.appendingPathComponent("config.json"))
    #expect(config["norm_before_fc"] == true)
    #expect(config["norm_output"] == true)
    #expect(config["transformer_layer_config"]?["num_key_value_heads"] == 4)
    #expect(config["transformer_layer_config"]?["num_hidden_layers"] == 2)
  }

  @Test("EAGLE-3.1: fc_norm keeps fc_norm.{j}.weight")
  func fcNorm() throws {
    let (result, output) = try convert("eagle3-fc-norm")
    #expect(result.status == 0, "\(result.stderr)")
    let written = try writtenDigests(output)
    let source = try digests("eagle3-fc-norm")
    for j in 0..<3 { #expect(written["fc_norm.\(j).weight"] == source["fc_norm.\(j).weight"]) }
    let config = try json(output.appendingPathComponent("config.json"))
    #expect(config["fc_norm"] == true)
  }

  @Test("a DFlash fc that does not match the aux ids is refused, naming fc.weight; nothing is written")
  func dflashAuxMismatch() throws {
    let (result, output) = try convert("dflash-zlab", ["--algorithm-kwargs", "{\"aux_hidden_state_layer_ids\": [1, 2]}"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("fc.weight"), "\(result.stderr)")
    #expect(result.stderr.contains("takes 3 hidden states but aux_hidden_state_layer_ids has 2"), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: output.path))
  }
}
