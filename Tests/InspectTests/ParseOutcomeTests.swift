import Foundation
import Testing

@testable import Inspect

/// Inputs at the edges of the safetensors header and shard-index parsing, and the outcome the
/// readers must give for each: the tensors (or entries) read, or the exact error. The expected
/// outcomes are in `Fixtures/hostile/parse-probes/outcomes.json`; with
/// `PARSE_OUTCOMES_RECORD=PATH` set, the current outcomes are written to PATH instead.
@Suite struct ParseOutcomeTests {
  // MARK: - Safetensors headers

  /// Headers probing the parser's edges (each with 4 data bytes).
  static let headerProbes: [String] = [
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"  {"a" : { "data_offsets" : [ 0 , 4 ] , "shape" : [ 1 ] , "dtype" : "F32" } }  "#,
    #"{"__metadata__":null,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"__metadata__":{},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"__metadata__":{"k":"v","k":"w"}}"#,
    #"{"__metadata__":{"dtype":"F32"}}"#,
    #"{"__metadata__":nul}"#,
    #"{"__metadata__":null,"__metadata__":null}"#,
    #"{"__metadata__":{"a":1},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"__metadata__":[],"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"a\u00e9":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"é":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":null}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":{"y":[1,{"z":"\u0041"}]}}}"#,
    #"{"a":{"dtype":"F32","shape":[1]}}"#,
    #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#,
    #"{"a":[]}"#,
    #"{"a":{"dtype":1,"shape":[1],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":{},"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":"x"}}"#,
    #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"x","shape":[1],"data_offsets":[4,8]},"c":1}"#,
    #"{"a":{"dtype":"x","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":1}"#,
    #"{"a":{"dtype":"x","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}"#,
    #"{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,]}}"#,
    #"{"a":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[9223372036854775807],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[-9223372036854775808],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#,
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    #"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}"#,
    #"{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#,
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\u{0}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\u{0}\u{0} ",
    "{\"a\t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
    "[]", "\"x\"", " 1", "null", "{}", "", "{", "{\"a\"", "{\"a\":", "{\"a\":{}", "{1:2}",
    String(repeating: "[", count: 129) + String(repeating: "]", count: 129),
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":"# + String(repeating: "[", count: 126)
      + String(repeating: "]", count: 126) + "}}",
    #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":"# + String(repeating: "[", count: 127)
      + String(repeating: "]", count: 127) + "}}",
  ]

  /// Every dtype spelling, near misses, and data_offsets pairs of every shape.
  static let spellingProbes: [String] =
    DType.allCases.map { #"{"a":{"dtype":"\#($0.rawValue)","shape":[2],"data_offsets":[0,4]}}"# }
    + ["F3", "F322", "BF16 ", " F32", "bf16", "F8_E4M3FN", "", "F\\u0033\\u0032"].map {
      #"{"a":{"dtype":"\#($0)","shape":[1],"data_offsets":[0,4]}}"#
    }
    + ["[0]", "[0,4,4]", "[]", "[ 0 , 4 ]", "[0,4", "[0 4]", "[0,,4]", "[00,4]", "[0,-4]", "[0,4.0]", "[0,\"4\"]"].map {
      #"{"a":{"dtype":"U8","shape":[4],"data_offsets":\#($0)}}"#
    }

  /// Key orders a duplicate check must see through: ascending, descending, a repeat after the
  /// order breaks, and canonically equal non-ASCII names (a repeat too).
  static let keyOrders: [[String]] = [
    ["a", "b", "c"], ["c", "b", "a"], ["a", "ab", "aa"], ["a", "b", "a"], ["b", "a", "b"], ["ab", "a", "ab"],
    ["\u{E9}", "e\u{301}"], ["e\u{301}", "\u{E9}"], (0..<40).map { "n\($0)" }, (0..<40).map { "n\($0)" } + ["n7"],
    (0..<40).reversed().map { "n\($0)" } + ["n39"],
  ]

  /// A quote, backslash, control or non-ASCII byte at every position of names of up to 20 bytes.
  static let specialNames: [String] = ["\\\"", "\\\\", "\t", "\u{1F}", "\u{7F}", "\u{E9}", "\\u0041"].flatMap { special in
    (0...20).flatMap { length in
      (0...length).map { position in
        String(repeating: "n", count: position) + special + String(repeating: "m", count: length - position)
      }
    }
  }

  /// Every header input with its key in the outcomes file.
  static var headerInputs: [(key: String, bytes: [UInt8])] {
    var inputs: [(key: String, bytes: [UInt8])] = []
    for json in headerProbes + spellingProbes {
      inputs.append(("probe:" + json, SafetensorsBytes.make(json: json, dataCount: 4)))
    }
    for names in keyOrders {
      let entries = names.enumerated().map {
        #""\#($1)":{"dtype":"U8","shape":[1],"data_offsets":[\#($0),\#($0 + 1)]}"#
      }
      let json = "{" + entries.joined(separator: ",") + "}"
      inputs.append(("order:" + json, SafetensorsBytes.make(json: json, dataCount: names.count)))
    }
    for name in specialNames {
      let json = #"{""# + name + #"":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
      inputs.append(("name:" + json, SafetensorsBytes.make(json: json, dataCount: 4)))
    }
    for hostile in SafetensorsReaderTests.hostileCases {
      inputs.append(("hostile:" + hostile.label, hostile.bytes))
    }
    inputs.append(("worked example", SafetensorsReaderTests.workedExample))
    for (name, bytes) in corpus("FuzzSafetensorsHeader") { inputs.append(("corpus:" + name, bytes)) }
    return inputs
  }

  /// What reading `bytes` as a whole safetensors file gives, as one line.
  static func headerOutcome(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { raw in
      do throws(CheckpointError) {
        let header = try SafetensorsReader.readHeader(bytes: raw, path: "p.safetensors")
        let metadata = header.metadata.map { map in map.keys.sorted().map { "\($0)=\(map[$0] ?? "")" } }
        let tensors = header.tensors.map { tensor in
          let layout: String
          switch tensor.layout {
          case .contiguous(let offset, let length): layout = "\(offset)+\(length)"
          default: layout = "\(tensor.layout)"
          }
          return "\(tensor.name) \(tensor.dtype.rawValue) \(tensor.shape) \(layout)"
        }
        return "ok \(header.headerLength) metadata \(metadata.map { "\($0)" } ?? "nil") tensors \(tensors)"
      } catch {
        return "error \(error.kind) \(error.description)"
      }
    }
  }

  // MARK: - Shard indexes

  static let indexProbes: [String] = [
    ShardIndexTests.twoShards,
    #"{"weight_map":{"a":"s.safetensors","b":"t.safetensors","c":"s.safetensors"},"metadata":{"total_size":3}}"#,
    #"{"weight_map":{"b":"s.safetensors","a":"s.safetensors"}}"#,
    #"{"weight_map":{"a":"s.safetensors","b":"s.safetensors","a":"t.safetensors"}}"#,
    #"{"weight_map":{"a":"s.safetensors","ab":"s.safetensors","aa":"s.safetensors"}}"#,
    "{\"weight_map\":{\"\u{E9}\":\"s.safetensors\",\"e\u{301}\":\"s.safetensors\"}}",
    "{\"weight_map\":{\"model.layers.10.mlp.up_proj.weight\":\"s.safetensors\",\"model.layers.9\u{1}.x\":\"s\"}}",
    #"{"weight_map":{}}"#,
    #"{"weight_map":{"a":""}}"#,
    #"{"weight_map":{"a":"s","b":"","c":"s"}}"#,
    #"{"weight_map":{"a":"s","b":"../x","c":1}}"#,
    #"{"weight_map":{"a":1,"b":"/x"}}"#,
    #"{"weight_map":{"a":"a/b"},"weight_map":{"a":"s"}}"#,
    #"{"weight_map":{"a":"a/b"},"x":{"k":1,"k":2}}"#,
    #"{"weight_map":{"a":"s\\u002fx"}}"#,
    #"{"weight_map":{"a":"s\u0000"}}"#,
    #"{"weight_map":{"a":1}}"#,
    #"{"weight_map":[]}"#,
    #"{"weight_map":null}"#,
    #"{"metadata":{"total_size":1}}"#,
    #"{"metadata":{"total_size":01},"weight_map":{"a":"s.safetensors"}}"#,
    #"{"metadata":tru,"weight_map":{"a":"s.safetensors"}}"#,
    #"{"metadata":"#,
    "{}", "", "[]", "\"s\"", "1 2",
    "{\"weight_map\":{\"a\":\"s\u{1}\"}}",
    "{\"weight_map\":{\"\u{E9}\":\"s.safetensors\"}}",
    String(repeating: "[", count: 127) + String(repeating: "]", count: 127),
    #"{"m":"# + String(repeating: "[", count: 127) + String(repeating: "]", count: 127) + #","weight_map":{"a":"s"}}"#,
    #"{"m":"# + String(repeating: "[", count: 128) + String(repeating: "]", count: 128) + #","weight_map":{"a":"s"}}"#,
  ]

  static var indexInputs: [(key: String, bytes: [UInt8])] {
    var inputs = indexProbes.map { (key: "probe:" + $0, bytes: Array($0.utf8)) }
    var invalid = Array(#"{"weight_map":{"ab":"s.safetensors"}}"#.utf8)
    invalid[16] = 0xFF
    inputs.append(("invalid UTF-8 in a name", invalid))
    for (name, bytes) in corpus("FuzzShardIndex") { inputs.append(("corpus:" + name, bytes)) }
    return inputs
  }

  /// What parsing `bytes` as a shard index gives, as one line.
  static func indexOutcome(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { raw in
      do throws(CheckpointError) {
        let index = try ShardIndex.parse(raw, path: "i.json")
        let entries = index.entries.map { "\($0.tensor)=\($0.shard)" }
        return "ok \(entries) shards \(index.shards) metadata \(index.metadata.map(JSONWriter.compact) ?? "nil")"
      } catch {
        return "error \(error.kind) \(error.description)"
      }
    }
  }

  // MARK: - Expected outcomes

  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The seed corpus of a fuzz target: file name and bytes, by name.
  static func corpus(_ target: String) -> [(String, [UInt8])] {
    let directory = repository.appendingPathComponent("Fuzz/corpus/\(target)")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.sorted().compactMap { name in
      (try? Data(contentsOf: directory.appendingPathComponent(name))).map { (name, Array($0)) }
    }
  }

  static let outcomesPath = repository.appendingPathComponent("Fixtures/hostile/parse-probes/outcomes.json").path

  /// `key` with every non-ASCII scalar spelled `\u{HEX}`: keys that are canonically equal
  /// (`é` and `e` + U+0301) stay distinct keys of the outcomes file.
  static func asciiKey(_ key: String) -> String {
    key.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16, uppercase: true))}" }.joined()
  }

  static func current() -> JSONValue {
    let header = headerInputs.map { (key: asciiKey($0.key), value: JSONValue.string(headerOutcome($0.bytes))) }
    let index = indexInputs.map { (key: asciiKey($0.key), value: JSONValue.string(indexOutcome($0.bytes))) }
    return .object([("safetensors", .object(header)), ("index", .object(index))])
  }

  @Test func everyInputHasItsRecordedOutcome() throws {
    let outcomes = Self.current()
    if let record = ProcessInfo.processInfo.environment["PARSE_OUTCOMES_RECORD"] {
      try (JSONWriter.pretty(outcomes) + "\n").write(toFile: record, atomically: true, encoding: .utf8)
      return
    }
    let recorded = try StrictJSONParser.parse(Array(Data(contentsOf: URL(fileURLWithPath: Self.outcomesPath))))
    for part in ["safetensors", "index"] {
      let expected = try #require(recorded[part]?.objectMembers)
      let actual = try #require(outcomes[part]?.objectMembers)
      #expect(expected.map(\.key).sorted() == actual.map(\.key).sorted(), "\(part): the inputs changed")
      let byKey = Dictionary(expected.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
      for member in actual {
        #expect(byKey[member.key] == member.value, "\(part) \(member.key.debugDescription)")
      }
    }
  }
}
