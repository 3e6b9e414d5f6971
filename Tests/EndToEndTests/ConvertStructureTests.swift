import Foundation
import Inspect
import Testing

/// A copy of a safetensors fixture directory in which `change` may give any tensor another
/// dtype and shape (its bytes then become zeros of the new size; the others are kept).
func rewrittenFixture(
  _ fixture: String, in parent: URL, change: (String, DType, [Int]) -> (DType, [Int])?
) throws -> URL {
  let copy = parent.appendingPathComponent(fixture)
  try FileManager.default.copyItem(at: TestPaths.fixtures.appendingPathComponent(fixture), to: copy)
  let weights = copy.appendingPathComponent("model.safetensors")
  let original = try Data(contentsOf: weights)
  let header = try SafetensorsReader.readHeader(from: try MappedFile(path: weights.path))
  var json: [String] = []
  var data = Data()
  for tensor in header.tensors.sorted(by: { $0.name < $1.name }) {
    var bytes = Data()
    if case .contiguous(let offset, let length) = tensor.layout {
      bytes = original.subdata(in: offset..<offset + length)
    }
    var (dtype, shape) = (tensor.dtype, tensor.shape)
    if let changed = change(tensor.name, dtype, shape) {
      (dtype, shape) = changed
      bytes = Data(count: shape.reduce(1, *) * (dtype.bytesPerElement ?? 1))
    }
    json.append(
      "\"\(tensor.name)\":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":\(shape),"
        + "\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}")
    data.append(bytes)
  }
  var headerBytes = Array(("{" + json.joined(separator: ",") + "}").utf8)
  headerBytes += Array(repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
  var file = Data(withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { Array($0) })
  file.append(contentsOf: headerBytes)
  file.append(data)
  try file.write(to: weights)
  return copy
}

/// Convert runs verify's header checks on the output it plans before writing anything: what
/// its own verify would reject is refused with exit 2, one line naming the problem, nothing
/// written.
@Suite("convert refuses what its verify would reject")
struct ConvertStructureTests {
  private func refuses(_ draft: URL, algorithm: String, parent: URL, _ expected: [String]) throws {
    let before = directoryNames(parent)
    let result = try speculatorsAtRoot([
      "convert", draft.path, "--algorithm", algorithm, "--verifier", "Fixtures/verifier", "--output-path",
      parent.appendingPathComponent("out").path,
    ])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    for text in expected { #expect(result.stderr.contains(text), "\(text) not in: \(result.stderr)") }
    #expect(directoryNames(parent) == before)
  }

  @Test("a BOOL fc.weight")
  func boolWeight() throws {
    let parent = try TestPaths.temporaryDirectory()
    let draft = try rewrittenFixture("eagle3-embed", in: parent) { name, _, shape in
      name == "fc.weight" ? (.BOOL, shape) : nil
    }
    try refuses(draft, algorithm: "eagle3", parent: parent, ["fc.weight", "BOOL"])
  }

  @Test("a transposed q_proj")
  func transposedProjection() throws {
    let parent = try TestPaths.temporaryDirectory()
    let draft = try rewrittenFixture("eagle3-embed", in: parent) { name, dtype, shape in
      name == "midlayer.self_attn.q_proj.weight" ? (dtype, shape.reversed()) : nil
    }
    try refuses(draft, algorithm: "eagle3", parent: parent, ["q_proj.weight", "tensors.shape"])
  }

  @Test("zero-length layernorms")
  func emptyNorms() throws {
    let parent = try TestPaths.temporaryDirectory()
    let draft = try rewrittenFixture("eagle3-embed", in: parent) { name, dtype, _ in
      name.hasSuffix("layernorm.weight") ? (dtype, [0]) : nil
    }
    try refuses(draft, algorithm: "eagle3", parent: parent, ["layernorm.weight"])
  }

  @Test(
    "config values verify rejects",
    arguments: [
      ("num_key_value_heads", "0", "num_key_value_heads is 0"),
      ("intermediate_size", "0", "intermediate_size is 0"),
      ("num_attention_heads", "3", "config.attention-heads"),
      ("rms_norm_eps", "\"x\"", "rms_norm_eps"),
    ])
  func configValues(key: String, raw: String, expected: String) throws {
    let parent = try TestPaths.temporaryDirectory()
    let draft = try mutatedFixture("eagle3-embed", path: [key], raw: raw, in: parent)
    try refuses(draft, algorithm: "eagle3", parent: parent, [expected])
  }
}
