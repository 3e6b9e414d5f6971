import Foundation
import Testing

@testable import Inspect

/// Builds small safetensors files byte by byte for reader tests.
enum SafetensorsBytes {
  /// 8-byte little-endian `headerLength` (defaults to the header's size), the header, the data.
  static func make(header: [UInt8], data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    let length = headerLength ?? UInt64(header.count)
    var bytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
    bytes += header
    bytes += data
    return bytes
  }

  /// A file whose header is `json` (UTF-8) followed by `dataCount` zero bytes.
  static func make(json: String, dataCount: Int = 0) -> [UInt8] {
    make(header: Array(json.utf8), data: [UInt8](repeating: 0, count: dataCount))
  }
}

/// A scratch directory for files written by a test, removed when the value goes away.
final class ScratchDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("speculators-inspect-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  var path: String { url.path }

  /// Writes `bytes` to `name` (subdirectories created) and returns the full path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let file = url.appendingPathComponent(name)
    try FileManager.default.createDirectory(
      at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: file)
    return file.path
  }

  /// Writes UTF-8 `text` to `name`.
  @discardableResult
  func write(_ name: String, text: String) throws -> String {
    try write(name, Array(text.utf8))
  }

  deinit {
    try? FileManager.default.removeItem(at: url)
  }
}

/// Reads the header of `bytes` written to a scratch file named `name`.
func readSafetensorsHeader(_ bytes: [UInt8], name: String = "t.safetensors") throws -> SafetensorsReader.Header {
  let scratch = try ScratchDirectory()
  let path = try scratch.write(name, bytes)
  let file = try MappedFile(path: path)
  return try SafetensorsReader.readHeader(from: file)
}

/// The error reading the header of `bytes` throws, or `nil` when it reads fine.
func safetensorsError(_ bytes: [UInt8]) throws -> CheckpointError? {
  do {
    _ = try readSafetensorsHeader(bytes)
    return nil
  } catch let error as CheckpointError {
    return error
  }
}

@Suite struct SafetensorsReaderTests {
  /// A small file as written by safetensors 0.8.0.
  static let workedExample: [UInt8] = {
    let json = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"#
      + #""w":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}    "#
    return SafetensorsBytes.make(
      header: Array(json.utf8), data: [3, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0x00, 0xC0])
  }()

  @Test func readsTheReferenceWorkedExample() throws {
    #expect(Self.workedExample.count == 164)
    let header = try readSafetensorsHeader(Self.workedExample)
    #expect(header.headerLength == 144)
    #expect(header.dataStart == 152)
    #expect(header.metadata == ["format": "pt"])
    #expect(header.tensors.map(\.name) == ["b", "w"])
    #expect(header.tensors.map(\.dtype) == [.I64, .BF16])
    #expect(header.tensors.map(\.shape) == [[1], [2]])
    #expect(header.tensors[0].layout == .contiguous(offset: 152, length: 8))
    #expect(header.tensors[1].layout == .contiguous(offset: 160, length: 4))
    #expect(header.tensors.allSatisfy { $0.file.hasSuffix("t.safetensors") })
  }

  @Test func sortsTensorsByOffsetWhateverTheKeyOrder() throws {
    let json = #"{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
      + #""a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#
    let header = try readSafetensorsHeader(SafetensorsBytes.make(json: json, dataCount: 6))
    #expect(header.tensors.map(\.name) == ["z", "a"])
    #expect(header.metadata == nil)
  }

  @Test(arguments: [
    (#"{}"#, 0, 0),
    (" \n\t{}\r\n  ", 0, 0),
    (#"{"__metadata__":null}"#, 0, 0),
    (#"{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#, 4, 1),
    (#"{"e":{"dtype":"F16","shape":[2,0],"data_offsets":[0,0]},"f":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, 4, 2),
    (#"{"x":{"dtype":"F4","shape":[4],"data_offsets":[0,2],"extra":1},"":{"dtype":"BOOL","shape":[2],"data_offsets":[2,4]}}"#, 4, 2),
    (#"{"n\u0000":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, 8, 1),
  ])
  func acceptsWhatTheReferenceAccepts(json: String, dataCount: Int, tensorCount: Int) throws {
    let header = try readSafetensorsHeader(SafetensorsBytes.make(json: json, dataCount: dataCount))
    #expect(header.tensors.count == tensorCount)
    #expect(header.metadata == nil)
  }

  @Test func scalarAndZeroSizeTensorsHaveTheirLayouts() throws {
    let json = #"{"e":{"dtype":"F16","shape":[2,0],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#
    let header = try readSafetensorsHeader(SafetensorsBytes.make(json: json, dataCount: 4))
    let dataStart = 8 + json.utf8.count
    #expect(header.tensors.map(\.name) == ["e", "s"])
    #expect(header.tensors[0].layout == .contiguous(offset: dataStart, length: 0))
    #expect(header.tensors[1].shape == [])
    #expect(header.tensors[1].elementCount == 1)
  }

  struct HostileCase: CustomTestStringConvertible, Sendable {
    var label: String
    var bytes: [UInt8]
    var kind: CheckpointError.Kind = .malformed
    var reason: String
    var offset: UInt64?
    var tensor: String?
    var testDescription: String { label }
  }

  static let hostileCases: [HostileCase] = {
    func tensor(_ name: String, _ dtype: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
      #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":[\#(begin),\#(end)]}"#
    }
    func file(_ entries: [String], data: Int) -> [UInt8] {
      SafetensorsBytes.make(json: "{" + entries.joined(separator: ",") + "}", dataCount: data)
    }
    let one = tensor("a", "F32", "[1]", 0, 4)
    let oneJSON = "{" + one + "}"
    let dataStartOne = UInt64(8 + oneJSON.utf8.count)
    var nonUTF8 = Array(#"{"a\#u{FF}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
    nonUTF8[3] = 0xFF
    nonUTF8.remove(at: 4)
    return [
      HostileCase(label: "truncated", bytes: [1, 2, 3], reason: "file is 3 bytes, too small for the 8-byte header length"),
      HostileCase(
        label: "header past EOF", bytes: SafetensorsBytes.make(header: Array("{}".utf8), headerLength: 100),
        reason: "header length 100 runs past the end of the file (10 bytes)", offset: 0),
      HostileCase(
        label: "header over cap", bytes: SafetensorsBytes.make(header: Array("{}".utf8), headerLength: 200_000_000),
        kind: .limitExceeded, reason: "header length 200000000 exceeds the 100000000-byte limit", offset: 0),
      HostileCase(
        label: "header length 2^64-1", bytes: SafetensorsBytes.make(header: [], headerLength: .max),
        kind: .limitExceeded, reason: "header length 18446744073709551615 exceeds the 100000000-byte limit"),
      HostileCase(
        label: "empty header", bytes: SafetensorsBytes.make(header: []),
        reason: "header is not valid JSON: unexpected end of JSON", offset: 8),
      HostileCase(
        label: "non-UTF-8", bytes: SafetensorsBytes.make(header: nonUTF8, data: [0, 0, 0, 0]),
        reason: "header is not valid UTF-8", offset: 11),
      HostileCase(
        label: "NUL padding", bytes: SafetensorsBytes.make(header: Array(oneJSON.utf8) + [0, 0, 0], data: [0, 0, 0, 0]),
        reason: "header is padded with NUL bytes", offset: dataStartOne),
      HostileCase(
        label: "root array", bytes: SafetensorsBytes.make(json: " []"),
        reason: "header is an array, not an object", offset: 9),
      HostileCase(
        label: "duplicate name", bytes: file([one, tensor("a", "F32", "[1]", 0, 4)], data: 4),
        reason: "duplicate tensor name 'a'", offset: dataStartOne),
      HostileCase(
        label: "duplicate field",
        bytes: SafetensorsBytes.make(json: #"{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataCount: 4),
        reason: #"header is not valid JSON: duplicate key "dtype""#),
      HostileCase(
        label: "duplicate metadata",
        bytes: SafetensorsBytes.make(json: #"{"__metadata__":{},"__metadata__":{}}"#),
        reason: "duplicate '__metadata__' entry"),
      HostileCase(
        label: "non-string metadata", bytes: SafetensorsBytes.make(json: #"{"__metadata__":{"k":1}}"#),
        reason: "__metadata__ value for 'k' is 1, not a string", offset: 9),
      HostileCase(
        label: "metadata array", bytes: SafetensorsBytes.make(json: #"{"__metadata__":["pt"]}"#),
        reason: "__metadata__ is an array, not an object of strings"),
      HostileCase(
        label: "tensor named __metadata__",
        bytes: SafetensorsBytes.make(json: "{" + tensor("__metadata__", "F32", "[1]", 0, 4) + "}", dataCount: 4),
        reason: "a tensor may not be named '__metadata__'"),
      HostileCase(
        label: "unknown dtype", bytes: file([tensor("a", "F128", "[1]", 0, 16)], data: 16),
        reason: "unknown dtype 'F128'", offset: 9, tensor: "a"),
      HostileCase(
        label: "lowercase dtype", bytes: file([tensor("a", "f32", "[1]", 0, 4)], data: 4),
        reason: "unknown dtype 'f32'", tensor: "a"),
      HostileCase(
        label: "negative dimension", bytes: file([tensor("a", "F32", "[-1]", 0, 4)], data: 4),
        reason: "shape[0] is -1, not a non-negative integer", tensor: "a"),
      HostileCase(
        label: "fractional dimension", bytes: file([tensor("a", "F32", "[1.5]", 0, 4)], data: 4),
        reason: "shape[0] is 1.5, not a non-negative integer", tensor: "a"),
      HostileCase(
        label: "float offset",
        bytes: SafetensorsBytes.make(json: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}"#, dataCount: 4),
        reason: "data_offsets[1] is 4.0, not a non-negative integer", tensor: "a"),
      HostileCase(
        label: "three offsets",
        bytes: SafetensorsBytes.make(json: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, dataCount: 4),
        reason: "data_offsets has 3 elements, not 2", tensor: "a"),
      HostileCase(
        label: "offsets object",
        bytes: SafetensorsBytes.make(json: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":{"0":4}}}"#, dataCount: 4),
        reason: "data_offsets is an object, not an array", tensor: "a"),
      HostileCase(
        label: "missing shape", bytes: SafetensorsBytes.make(json: #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, dataCount: 4),
        reason: "missing 'shape'", tensor: "a"),
      HostileCase(
        label: "entry not object", bytes: SafetensorsBytes.make(json: #"{"a":"F32"}"#),
        reason: "entry is a string, not an object", tensor: "a"),
      HostileCase(
        label: "gap", bytes: file([one, tensor("b", "F32", "[2]", 8, 16)], data: 16),
        reason: "data_offsets [8, 16] leave a gap after byte 4", tensor: "b"),
      HostileCase(
        label: "first offset not zero", bytes: file([tensor("a", "F32", "[1]", 4, 8)], data: 8),
        reason: "data_offsets [4, 8] leave a gap after byte 0", tensor: "a"),
      HostileCase(
        label: "overlap", bytes: file([tensor("a", "F32", "[2]", 0, 8), tensor("b", "F32", "[1]", 4, 8)], data: 8),
        reason: "data_offsets [4, 8] overlap tensor 'a', which ends at byte 8", tensor: "b"),
      HostileCase(
        label: "same range twice", bytes: file([one, tensor("b", "F32", "[1]", 0, 4)], data: 4),
        reason: "overlap tensor", tensor: "b"),
      HostileCase(
        label: "size mismatch", bytes: file([tensor("a", "F32", "[2, 3]", 0, 20)], data: 20),
        reason: "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] span 20", tensor: "a"),
      HostileCase(
        label: "element count overflow", bytes: file([tensor("a", "F32", "[4294967296, 4294967296]", 0, 4)], data: 4),
        reason: "shape [4294967296, 4294967296] of F32 overflows the element count", tensor: "a"),
      HostileCase(
        label: "bit count overflow", bytes: file([tensor("a", "F32", "[576460752303423488]", 0, 4)], data: 4),
        reason: "shape [576460752303423488] of F32 overflows the byte count", tensor: "a"),
      HostileCase(
        label: "sub-byte remainder", bytes: file([tensor("a", "F4", "[3]", 0, 2)], data: 2),
        reason: "shape [3] of F4 is 12 bits, not a whole number of bytes", tensor: "a"),
      HostileCase(
        label: "trailing bytes", bytes: SafetensorsBytes.make(json: oneJSON, dataCount: 5),
        reason: "1 trailing byte after the tensor data, which ends at byte \(dataStartOne + 4) of \(dataStartOne + 5)",
        offset: dataStartOne + 4),
      HostileCase(
        label: "truncated data", bytes: SafetensorsBytes.make(json: oneJSON, dataCount: 3),
        reason: "tensor data needs 4 bytes after the header but the file has 3 (the file is truncated)",
        offset: dataStartOne),
    ]
  }()

  @Test(arguments: hostileCases)
  func rejectsHostileHeaderWithASpecificMessage(_ hostile: HostileCase) throws {
    let error = try #require(try safetensorsError(hostile.bytes))
    #expect(error.kind == hostile.kind)
    #expect(error.reason.contains(hostile.reason), "got: \(error.description)")
    if let offset = hostile.offset { #expect(error.offset == offset, "got: \(error.description)") }
    if let tensor = hostile.tensor { #expect(error.tensor == tensor) }
    #expect(error.file.hasSuffix("t.safetensors"))
    #expect(!error.description.contains("\n"))
  }

  @Test func endBeforeBeginIsRejected() throws {
    // [4, 0] sorts after [0, 4], begins where that ends, and ends before it begins.
    let json = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#
    let error = try #require(try safetensorsError(SafetensorsBytes.make(json: json, dataCount: 4)))
    #expect(error.reason == "data_offsets [4, 0] end before they begin")
    #expect(error.tensor == "b")
  }

  @Test func tooManyTensorsIsALimit() throws {
    #expect(SafetensorsReader.maximumTensorCount == 1_000_000)
    let longName = String(repeating: "n", count: SafetensorsReader.maximumNameLength + 1)
    let json = #"{"\#(longName)":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#
    let error = try #require(try safetensorsError(SafetensorsBytes.make(json: json)))
    #expect(error.kind == .limitExceeded)
    #expect(error.reason.contains("over the 16384-byte limit"))
  }

  @Test func errorDescriptionIsOneLineNamingFileOffsetAndTensor() throws {
    let json = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
    let error = try #require(try safetensorsError(SafetensorsBytes.make(json: json, dataCount: 16)))
    let dataStart = 8 + json.utf8.count
    #expect(error.description.hasSuffix(
      "t.safetensors: offset \(dataStart + 4): tensor 'b': data_offsets [8, 16] leave a gap after byte 4"))
  }
}

@Suite struct UTF8ValidationTests {
  @Test(arguments: [
    ([0x41, 0xC3, 0xA9, 0x42], nil),
    ([0x41, 0xFF], 1),
    ([0xC0, 0x80], 0),  // overlong
    ([0xED, 0xA0, 0x80], 0),  // surrogate
    ([0xF4, 0x90, 0x80, 0x80], 0),  // above U+10FFFF
    ([0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xE2, 0x82], 9),  // truncated sequence
    ([0xF0, 0x9F, 0x98, 0x80], nil),
  ] as [([UInt8], Int?)])
  func findsTheFirstInvalidByte(bytes: [UInt8], expected: Int?) {
    let found = bytes.withUnsafeBytes { UTF8Validation.firstInvalidByte(in: $0) }
    #expect(found == expected)
  }
}
