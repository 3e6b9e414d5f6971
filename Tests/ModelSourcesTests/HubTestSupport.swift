import Foundation
import HubEmulatorSupport

/// A small model repository: config.json and one safetensors-named weights file.
let singleFileRepo: [String: [UInt8]] = [
  "config.json": Array(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}"#.utf8),
  "model.safetensors": fakeWeights(300_000, seed: 1),
  "README.md": Array("# test model\n".utf8),
]

/// A sharded verifier-like repository whose embeddings sit in the first shard.
let shardedRepo: [String: [UInt8]] = [
  "config.json": Array(#"{"architectures": ["LlamaForCausalLM"], "vocab_size": 512}"#.utf8),
  "model.safetensors.index.json": Array(
    #"""
    {"metadata": {"total_size": 300000}, "weight_map": {
      "lm_head.weight": "model-00002-of-00002.safetensors",
      "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
      "model.norm.weight": "model-00002-of-00002.safetensors"}}
    """#.utf8),
  "model-00001-of-00002.safetensors": fakeWeights(150_000, seed: 2),
  "model-00002-of-00002.safetensors": fakeWeights(150_000, seed: 3),
]
