import Foundation
import Inspect

@testable import Convert

/// A tensor for a hand-built test checkpoint.
struct TestTensor {
  var name: String
  var dtype: DType
  var shape: [Int]
  var bytes: [UInt8]

  /// A float tensor with deterministic pseudo-random values (small, finite), stored as `dtype`.
  static func random(_ name: String, _ shape: [Int], dtype: DType = .F16, seed: UInt64 = 1) -> TestTensor {
    var state = seed &+ UInt64(truncatingIfNeeded: name.hashValueStable)
    let count = shape.reduce(1, *)
    var bytes: [UInt8] = []
    for _ in 0..<count {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let value = Float(Int64(state >> 40) - (1 << 23)) / Float(1 << 23) * 0.5
      bytes += encode(value, as: dtype)
    }
    return TestTensor(name: name, dtype: dtype, shape: shape, bytes: bytes)
  }

  /// An int64 tensor.
  static func int64(_ name: String, _ values: [Int64]) -> TestTensor {
    TestTensor(
      name: name, dtype: .I64, shape: [values.count],
      bytes: values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } })
  }

  /// A bool tensor.
  static func bool(_ name: String, _ values: [Bool]) -> TestTensor {
    TestTensor(name: name, dtype: .BOOL, shape: [values.count], bytes: values.map { $0 ? 1 : 0 })
  }

  /// A float tensor with given values.
  static func floats(_ name: String, _ values: [Float], shape: [Int]? = nil, dtype: DType = .F32)
    -> TestTensor
  {
    TestTensor(
      name: name, dtype: dtype, shape: shape ?? [values.count],
      bytes: values.flatMap { encode($0, as: dtype) })
  }

  static func encode(_ value: Float, as dtype: DType) -> [UInt8] {
    let bits = value.bitPattern
    switch dtype {
    case .F32: return (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    case .F16:
      let half = ElementCodec.f32ToF16(bits).0
      return [UInt8(half & 0xFF), UInt8(half >> 8)]
    default:
      let brain = ElementCodec.f32ToBF16(bits).0
      return [UInt8(brain & 0xFF), UInt8(brain >> 8)]
    }
  }
}

extension String {
  /// A hash that is the same in every process (Swift's `hashValue` is seeded per run).
  var hashValueStable: UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    return hash
  }
}

/// Hand-built checkpoints: writes safetensors files directly (independently of the writer
/// under test) and reads them back into `Checkpoint` values.
enum TestCheckpoints {
  /// Writes a safetensors file with the tensors in the given order.
  static func writeSafetensors(
    _ tensors: [TestTensor], to path: String, metadata: [String: String]? = ["format": "pt"]
  ) throws {
    var members: [(key: String, value: JSONValue)] = []
    if let metadata {
      members.append(
        ("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
    }
    var offset = 0
    for tensor in tensors {
      members.append(
        (
          tensor.name,
          [
            "dtype": .string(tensor.dtype.rawValue), "shape": .array(tensor.shape.map { .int(Int64($0)) }),
            "data_offsets": [.int(Int64(offset)), .int(Int64(offset + tensor.bytes.count))],
          ]
        ))
      offset += tensor.bytes.count
    }
    var header = Array(JSONWriter.compact(.object(members)).utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var data = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * $0)) }
    data += header
    for tensor in tensors { data += tensor.bytes }
    try Data(data).write(to: URL(fileURLWithPath: path))
  }

  /// Writes a JSON value as a file.
  static func writeJSON(_ value: JSONValue, to path: String) throws {
    try JSONWriter.pretty(value).write(toFile: path, atomically: false, encoding: .utf8)
  }

  /// Reads one safetensors file's tensors.
  static func readSafetensors(_ path: String) throws -> (tensors: [TensorInfo], metadata: [String: String]?) {
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    guard data.count >= 8 else { throw CheckpointError(.malformed, file: path, reason: "short") }
    var length = 0
    for index in 0..<8 { length |= Int(data[index]) << (8 * index) }
    let header = try StrictJSONParser.parse(Array(data[8..<(8 + length)]))
    var tensors: [TensorInfo] = []
    var metadata: [String: String]?
    for (name, value) in header.objectMembers ?? [] {
      if name == "__metadata__" {
        metadata = Dictionary(
          uniqueKeysWithValues: (value.objectMembers ?? []).map { ($0.key, $0.value.stringValue ?? "") })
        continue
      }
      guard let dtype = value["dtype"]?.stringValue.flatMap(DType.init(rawValue:)),
        let shape = value["shape"]?.arrayValue?.compactMap(\.intValue),
        let offsets = value["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2
      else { throw CheckpointError(.malformed, file: path, tensor: name, reason: "bad entry") }
      tensors.append(
        TensorInfo(
          name: name, dtype: dtype, shape: shape, file: path,
          layout: .contiguous(offset: 8 + length + offsets[0], length: offsets[1] - offsets[0])))
    }
    return (tensors, metadata)
  }

  /// Opens a directory (every `*.safetensors` + `config.json`) or a single safetensors file.
  static func open(_ path: String) throws(CheckpointError) -> Checkpoint {
    do {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CheckpointError(.notFound, file: path, reason: "no such file")
      }
      let directory = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
      let weightNames =
        isDirectory.boolValue
        ? try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".safetensors") }
          .sorted()
        : [(path as NSString).lastPathComponent]
      var files: [CheckpointFile] = []
      var tensors: [TensorInfo] = []
      for name in weightNames {
        let full = directory + "/" + name
        tensors += try readSafetensors(full).tensors
        files.append(CheckpointFile(path: full, name: name, size: try fileSize(full), kind: .safetensors))
      }
      var config: JSONValue?
      let configPath = directory + "/config.json"
      if FileManager.default.fileExists(atPath: configPath) {
        config = try StrictJSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: configPath))))
        files.append(
          CheckpointFile(path: configPath, name: "config.json", size: try fileSize(configPath), kind: .config)
        )
      }
      return Checkpoint(location: path, directory: directory, files: files, config: config, tensors: tensors)
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(.io, file: path, reason: "\(error)")
    }
  }

  static func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  }

  /// The dense bytes of a tensor.
  static func bytes(of tensor: TensorInfo) throws -> [UInt8] {
    try TensorReader().bytes(of: tensor)
  }
}

/// The tiny Llama geometry of the fixtures: hidden 64, intermediate 128, 4 heads, 2 KV heads,
/// head_dim 16, vocab 512, draft vocab 128.
enum TinyModel {
  static let hidden = 64
  static let intermediate = 128
  static let kvRows = 32
  static let vocab = 512
  static let draftVocab = 128

  static func sourceConfig(_ extra: [(String, JSONValue)] = []) -> JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("architectures", ["LlamaForCausalLM"]), ("model_type", "llama"), ("hidden_size", 64),
      ("intermediate_size", 128), ("num_attention_heads", 4), ("num_key_value_heads", 2),
      ("num_hidden_layers", 1), ("vocab_size", 512), ("max_position_embeddings", 2048),
      ("rms_norm_eps", 1e-5), ("hidden_act", "silu"), ("pad_token_id", 0), ("bos_token_id", 128000),
      ("eos_token_id", 128001), ("tie_word_embeddings", false), ("torch_dtype", "float16"),
      ("rope_theta", 500000.0),
    ]
    for (key, value) in extra {
      if let index = members.firstIndex(where: { $0.key == key }) {
        members[index].value = value
      } else {
        members.append((key, value))
      }
    }
    return .object(members)
  }

  static func decoderLayer(
    prefix: String, inputWidth: Int, dtype: DType, withInputNorm: Bool, hiddenNorm: Bool
  ) -> [TestTensor] {
    var tensors: [TestTensor] = [
      .random(prefix + "self_attn.q_proj.weight", [hidden, inputWidth], dtype: dtype),
      .random(prefix + "self_attn.k_proj.weight", [kvRows, inputWidth], dtype: dtype),
      .random(prefix + "self_attn.v_proj.weight", [kvRows, inputWidth], dtype: dtype),
      .random(prefix + "self_attn.o_proj.weight", [hidden, hidden], dtype: dtype),
      .random(prefix + "mlp.gate_proj.weight", [intermediate, hidden], dtype: dtype),
      .random(prefix + "mlp.up_proj.weight", [intermediate, hidden], dtype: dtype),
      .random(prefix + "mlp.down_proj.weight", [hidden, intermediate], dtype: dtype),
      .random(prefix + "post_attention_layernorm.weight", [hidden], dtype: dtype),
    ]
    if withInputNorm { tensors.append(.random(prefix + "input_layernorm.weight", [hidden], dtype: dtype)) }
    if hiddenNorm { tensors.append(.random(prefix + "hidden_norm.weight", [hidden], dtype: dtype)) }
    return tensors
  }

  /// EAGLE-1 tensors (optionally with fc.bias, embed_tokens, HASS norms).
  static func eagleTensors(dtype: DType = .F16, bias: Bool, embed: Bool = true, hassNorms: Bool = false)
    -> [TestTensor]
  {
    var tensors = decoderLayer(
      prefix: "layers.0.", inputWidth: hidden, dtype: dtype, withInputNorm: false, hiddenNorm: false)
    tensors.append(.random("fc.weight", [hidden, 2 * hidden], dtype: dtype))
    if bias { tensors.append(.random("fc.bias", [hidden], dtype: dtype)) }
    if embed { tensors.append(.random("embed_tokens.weight", [vocab, hidden], dtype: dtype)) }
    if hassNorms {
      tensors.append(.random("embed_layernorm.weight", [hidden], dtype: dtype))
      tensors.append(.random("hidden_layernorm.weight", [hidden], dtype: dtype))
      tensors.append(.random("lm_head_layernorm.weight", [hidden], dtype: dtype))
    }
    return tensors
  }

  /// The draft-vocabulary maps: every 4th target token kept.
  static func vocabularyMaps() -> [TestTensor] {
    let kept = (0..<draftVocab).map { $0 * 4 }
    let d2t = kept.enumerated().map { Int64($1 - $0) }
    let t2d = (0..<vocab).map { $0 % 4 == 0 }
    return [.int64("d2t", d2t), .bool("t2d", t2d)]
  }

  /// EAGLE-3 tensors: `midlayer.*` (or `layers.N.*` for `layers` > 1), fc, norm, lm_head, maps.
  static func eagle3Tensors(dtype: DType = .F16, embed: Bool, layers: Int = 1, midlayer: Bool = true)
    -> [TestTensor]
  {
    var tensors: [TestTensor] = []
    for layer in 0..<layers {
      let prefix = midlayer && layers == 1 ? "midlayer." : "layers.\(layer)."
      tensors += decoderLayer(
        prefix: prefix, inputWidth: layer == 0 ? 2 * hidden : hidden, dtype: dtype, withInputNorm: true,
        hiddenNorm: layer == 0)
    }
    tensors.append(.random("fc.weight", [hidden, 3 * hidden], dtype: dtype))
    tensors.append(.random("norm.weight", [hidden], dtype: dtype))
    tensors.append(.random("lm_head.weight", [draftVocab, hidden], dtype: dtype))
    if embed { tensors.append(.random("embed_tokens.weight", [vocab, hidden], dtype: dtype)) }
    tensors += vocabularyMaps()
    return tensors
  }

  /// A two-shard BF16 verifier with an index; `model.embed_tokens.weight` in the first shard.
  static func writeVerifier(in directory: String, hidden: Int = hidden, vocab: Int = vocab, layers: Int = 4)
    throws
  {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try TestCheckpoints.writeJSON(
      [
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": .int(Int64(hidden)),
        "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2,
        "num_hidden_layers": .int(Int64(layers)), "vocab_size": .int(Int64(vocab)),
        "max_position_embeddings": 131072,
        "rope_theta": 500000.0, "torch_dtype": "bfloat16",
      ], to: directory + "/config.json")
    let embed = TestTensor.random("model.embed_tokens.weight", [vocab, hidden], dtype: .BF16, seed: 7)
    let norm = TestTensor.random("model.norm.weight", [hidden], dtype: .BF16, seed: 7)
    let head = TestTensor.random("lm_head.weight", [vocab, hidden], dtype: .BF16, seed: 7)
    try TestCheckpoints.writeSafetensors([embed, norm], to: directory + "/model-00001-of-00002.safetensors")
    try TestCheckpoints.writeSafetensors([head], to: directory + "/model-00002-of-00002.safetensors")
    try TestCheckpoints.writeJSON(
      [
        "metadata": ["total_size": .int(Int64(embed.bytes.count + norm.bytes.count + head.bytes.count))],
        "weight_map": [
          "lm_head.weight": "model-00002-of-00002.safetensors",
          "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
          "model.norm.weight": "model-00001-of-00002.safetensors",
        ],
      ], to: directory + "/model.safetensors.index.json")
  }

  /// Writes a draft directory.
  static func writeDraft(_ tensors: [TestTensor], config: JSONValue, in directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try TestCheckpoints.writeSafetensors(tensors, to: directory + "/model.safetensors")
    try TestCheckpoints.writeJSON(config, to: directory + "/config.json")
  }
}

/// A fresh temporary directory for one test, inside one per test process that is removed when
/// the process exits.
func makeTemporaryDirectory() throws -> String {
  let path = convertTestRoot + "/" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// The parent of every ``makeTemporaryDirectory()`` of this process.
let convertTestRoot: String = {
  let root = NSTemporaryDirectory() + "convert-tests-\(getpid())"
  try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  atexit { try? FileManager.default.removeItem(atPath: convertTestRoot) }
  return root
}()
