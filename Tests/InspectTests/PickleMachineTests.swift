import Foundation
import Testing

@testable import Inspect

/// A tiny pickle assembler: each helper returns the bytes of one opcode with its operand.
enum Pkl {
  static func op(_ opcode: PickleOpcode) -> [UInt8] { [opcode.rawValue] }
  static func proto(_ version: UInt8 = 2) -> [UInt8] { [PickleOpcode.proto.rawValue, version] }
  static func global(_ module: String, _ name: String) -> [UInt8] {
    op(.global) + Array(module.utf8) + [0x0A] + Array(name.utf8) + [0x0A]
  }
  static func string(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    return op(.binUnicode) + u32le(bytes.count) + bytes
  }
  static func int(_ value: Int) -> [UInt8] {
    if (0...255).contains(value) { return op(.binInt1) + [UInt8(value)] }
    return op(.binInt) + u32le(value)
  }
  static func put(_ index: UInt8) -> [UInt8] { op(.binPut) + [index] }
  static func get(_ index: UInt8) -> [UInt8] { op(.binGet) + [index] }
  static let mark = op(.mark)
  static let stop = op(.stop)
  static let emptyTuple = op(.emptyTuple)
  static let emptyDict = op(.emptyDict)
  static let emptyList = op(.emptyList)
  static let reduce = op(.reduce)
  static let newFalse = op(.newFalse)

  static let orderedDict = global("collections", "OrderedDict") + emptyTuple + reduce

  /// The persistent id `("storage", torch.<storageClass>, key, "cpu", numel)` + BINPERSID.
  static func storage(_ storageClass: String = "FloatStorage", key: String = "0", numel: Int = 6) -> [UInt8] {
    mark + string("storage") + global(storageClass.contains(".") ? "torch.storage" : "torch",
      storageClass.split(separator: ".").last.map(String.init) ?? storageClass)
      + string(key) + string("cpu") + int(numel) + op(.tuple) + op(.binPersID)
  }

  /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
  static func tensor(
    storage: [UInt8] = storage(), offset: Int = 0, size: [Int] = [2, 3], stride: [Int] = [3, 1],
    extra: [UInt8] = []
  ) -> [UInt8] {
    global("torch._utils", "_rebuild_tensor_v2") + mark + storage + int(offset)
      + mark + size.flatMap(int) + op(.tuple) + mark + stride.flatMap(int) + op(.tuple)
      + newFalse + orderedDict + extra + op(.tuple) + reduce
  }

  /// `{name: tensor, …}` as a plain dict, wrapped in PROTO … STOP.
  static func stateDict(_ items: [(String, [UInt8])]) -> [UInt8] {
    proto() + emptyDict + mark + items.flatMap { string($0.0) + $0.1 } + op(.setItems) + stop
  }
}

/// Runs `pickle` with one 24-byte storage record "0" (six f32) and "1" (four bytes).
func runPickle(_ pickle: [UInt8], limits: PickleMachine.Limits = .init()) throws -> PickleValue {
  var context = PickleMachine.Context(file: "test.pt", baseOffset: 1000)
  context.storageRecords = [
    "0": PickleStorageRecord(entryName: "t/data/0", offset: 5000, length: 24),
    "1": PickleStorageRecord(entryName: "t/data/1", offset: 6000, length: 4),
  ]
  context.limits = limits
  return try pickle.withUnsafeBytes { bytes throws(CheckpointError) in
    try PickleMachine.run(bytes, context: context)
  }
}

@Suite struct PickleMachineTests {
  /// Short name for the pickle assembler inside this suite.
  private typealias P = Pkl

  @Test func interpretsAStateDict() throws {
    let root = try runPickle(P.stateDict([
      ("w", P.tensor()), ("col", P.tensor(storage: P.storage(), offset: 1, size: [2], stride: [3])),
    ]))
    guard case .dict(let dict) = root else {
      Issue.record("root should be a dict: \(root)")
      return
    }
    #expect(!dict.isOrdered)
    #expect(dict.entries.count == 2)
    guard case .tensor(let weight)? = dict["w"], case .tensor(let column)? = dict["col"] else {
      Issue.record("values should be tensors")
      return
    }
    #expect(weight.dtype == .F32 && weight.shape == [2, 3] && weight.strides == [3, 1])
    #expect(weight.storage == PickleStorage(
      key: "0", kind: .typed(.F32), location: "cpu", numel: 6, recordOffset: 5000, recordLength: 24))
    #expect(column.storageOffset == 1 && column.shape == [2] && column.strides == [3])
  }

  @Test func interpretsTheGoldenPickle() throws {
    let archive = try ZipArchive(try MappedFile(path: TorchFixtures.path("golden-ex.pt")))
    let pickle = try #require(archive.entry(named: "ex/data.pkl"))
    let context = PickleMachine.Context(
      file: "ex.pt", baseOffset: pickle.dataOffset,
      storageRecords: ["0": PickleStorageRecord(entryName: "ex/data/0", offset: 704, length: 12)])
    let root = try PickleMachine.run(archive.data(of: pickle), context: context)
    guard case .dict(let dict) = root, case .tensor(let column)? = dict["emb_col"] else {
      Issue.record("expected an OrderedDict with emb_col")
      return
    }
    #expect(dict.isOrdered)
    #expect(dict.entries.map { PickleMachine.describe($0.key) } == ["'emb'", "'emb_col'"])
    #expect(column.dtype == .BF16 && column.storageOffset == 1 && column.strides == [3])
  }

  @Test func readsScalarOperandsExactly() throws {
    let pickle = P.proto() + P.mark
      + P.op(.binInt) + u32le(-2) + P.op(.binInt2) + u16le(0xBEEF)
      + P.op(.long1) + [0] + P.op(.long1) + [1, 0xFF] + P.op(.long1) + [8] + u64le(Int(Int64.min))
      + P.op(.long1) + [5, 0, 0, 0, 0, 2]
      + P.op(.binFloat) + [0x3F, 0xF8, 0, 0, 0, 0, 0, 0]
      + P.op(.shortBinString) + [2] + Array("hi".utf8)
      + P.op(.none) + P.op(.newTrue) + P.op(.tuple) + P.stop
    guard case .tuple(let tuple) = try runPickle(pickle) else {
      Issue.record("expected a tuple")
      return
    }
    let shown = tuple.items.map(PickleMachine.describe)
    #expect(shown == [
      "-2", "48879", "0", "-1", "-9223372036854775808", "8589934592", "float", "'hi'", "None", "True",
    ])
    guard case .float(let value) = tuple.items[6] else { return }
    #expect(value == 1.5)
  }

  @Test func memoSharesContainersLikePython() throws {
    // l = []; d = {}; memo[0] = d; d["a"] = 1; l.append(d); l.append(memo[0]):
    // the second reference is the same, filled dict.
    let shared = P.proto() + P.emptyList + P.emptyDict + P.put(0) + P.string("a") + P.int(1)
      + P.op(.setItem) + P.op(.append) + P.get(0) + P.op(.append) + P.stop
    guard case .list(let list) = try runPickle(shared), list.items.count == 2,
      case .dict(let first) = list.items[0], case .dict(let second) = list.items[1]
    else {
      Issue.record("expected a list of two dicts")
      return
    }
    #expect(first === second)
    #expect(second.entries.count == 1)
  }

  @Test func bytesNeedTheOptionalCodecsForm() throws {
    let pickle = P.proto() + P.global("_codecs", "encode") + P.string("\u{FF}A") + P.string("latin1")
      + P.op(.tuple2) + P.reduce + P.stop
    let error = caughtError { _ = try runPickle(pickle) }
    #expect(error?.reason
      == "refused: GLOBAL _codecs.encode at data.pkl offset 0x2 (not in the allowlist; unknown import)")
    var context = PickleMachine.Context(file: "t.pt")
    context.allowCodecsEncode = true
    let value = try pickle.withUnsafeBytes { bytes throws(CheckpointError) in
      try PickleMachine.run(bytes, context: context)
    }
    guard case .bytes(let bytes) = value else {
      Issue.record("expected bytes")
      return
    }
    #expect(bytes == [0xFF, 0x41])
  }

  /// (label, pickle, kind, message substring).
  static let refusals: [(String, [UInt8], CheckpointError.Kind, String)] = [
    ("stack global", P.proto() + P.string("os") + P.string("system") + P.op(.stackGlobal) + P.stop,
     .refused, "refused: STACK_GLOBAL os.system at data.pkl offset 0x14 (not in the allowlist; dangerous import)"),
    ("os.system", P.proto() + P.global("os", "system") + P.string("id") + P.op(.tuple1) + P.reduce + P.stop,
     .refused, "refused: GLOBAL os.system at data.pkl offset 0x2 (not in the allowlist; dangerous import)"),
    ("builtins.eval", P.proto() + P.global("builtins", "eval") + P.stop,
     .refused, "refused: GLOBAL builtins.eval at data.pkl offset 0x2 (not in the allowlist; dangerous import)"),
    ("unknown global", P.proto() + P.global("mymodule", "Thing") + P.stop,
     .refused, "refused: GLOBAL mymodule.Thing at data.pkl offset 0x2 (not in the allowlist; unknown import)"),
    ("torch.Size", P.proto() + P.global("torch", "Size") + P.stop, .refused, "GLOBAL torch.Size"),
    ("quantized", P.proto() + P.global("torch", "QInt8Storage") + P.stop,
     .unsupported, "GLOBAL torch.QInt8Storage at data.pkl offset 0x2: quantized storages are not supported"),
    ("complex128", P.proto() + P.global("torch", "ComplexDoubleStorage") + P.stop,
     .unsupported, "complex128 storages are not supported"),
    ("qtensor", P.proto() + P.global("torch._utils", "_rebuild_qtensor") + P.stop,
     .unsupported, "torch rebuild function for a tensor kind this reader does not support"),
    ("subclass", P.proto() + P.global("torch._tensor", "_rebuild_from_type_v2") + P.stop,
     .unsupported, "GLOBAL torch._tensor._rebuild_from_type_v2"),
    ("unknown opcode", P.proto() + [0xFF] + P.stop, .malformed, "data.pkl offset 0x2: unknown opcode 0xff"),
    ("text INT", P.proto() + Array("I1x\n".utf8) + P.stop, .malformed, "INT operand is not a 64-bit decimal integer"),
    ("DUP", P.proto() + P.emptyTuple + P.op(.dup) + P.stop, .refused, "opcode DUP (0x32) is not allowed"),
    ("second proto", P.proto() + P.proto() + P.emptyDict + P.stop,
     .malformed, "offset 0x2: PROTO is only allowed at offset 0"),
    ("protocol 6", P.proto(6) + P.emptyDict + P.stop, .unsupported, "pickle protocol 6 is not supported"),
    ("trailing", P.proto() + P.emptyDict + P.stop + P.proto() + P.stop,
     .malformed, "data.pkl offset 0x4: 3 trailing bytes after STOP"),
    ("no stop", P.proto() + P.emptyDict, .malformed, "pickle ends without STOP"),
    ("two values", P.proto() + P.emptyDict + P.emptyDict + P.stop, .malformed, "STOP with 2 values"),
    ("open mark", P.proto() + P.mark + P.emptyDict + P.stop, .malformed, "STOP with 1 MARK(s) still open"),
    ("empty stop", P.proto() + P.stop, .malformed, "STOP with 0 values"),
    ("binget unset", P.proto() + P.get(7) + P.stop, .malformed, "BINGET of memo index 7, which was never set"),
    ("long binget unset", P.proto() + P.op(.longBinGet) + u32le(70000) + P.stop,
     .malformed, "LONG_BINGET of memo index 70000, which was never set"),
    ("binput empty", P.proto() + P.put(0) + P.stop, .malformed, "BINPUT with an empty stack"),
    ("underflow", P.proto() + P.op(.tuple2) + P.stop, .malformed, "TUPLE2 needs 2 value(s)"),
    ("below mark", P.proto() + P.int(1) + P.int(2) + P.mark + P.op(.tuple2) + P.stop,
     .malformed, "TUPLE2 needs 2 value(s) but the stack has 0 above the last MARK"),
    ("tuple without mark", P.proto() + P.op(.tuple) + P.stop, .malformed, "TUPLE without a MARK"),
    ("setitem on list", P.proto() + P.emptyList + P.string("k") + P.int(1) + P.op(.setItem) + P.stop,
     .refused, "forbidden call: SETITEM on a list (only dicts accept SETITEM)"),
    ("setitems on tensor",
     P.proto() + P.tensor() + P.mark + P.string("k") + P.int(1) + P.op(.setItems) + P.stop,
     .refused, "forbidden call: SETITEMS on a tensor"),
    ("append on dict", P.proto() + P.emptyDict + P.int(1) + P.op(.append) + P.stop,
     .refused, "forbidden call: APPEND on a dict"),
    ("odd setitems", P.proto() + P.emptyDict + P.mark + P.string("k") + P.op(.setItems) + P.stop,
     .malformed, "SETITEMS with an odd number (1) of items"),
    ("duplicate key", P.stateDict([("w", P.int(1)), ("w", P.int(2))]), .malformed, "duplicate dict key 'w'"),
    ("bool equals int key", P.proto() + P.emptyDict + P.mark + P.int(1) + P.int(1) + P.op(.newTrue) + P.int(2)
       + P.op(.setItems) + P.stop, .malformed, "duplicate dict key True"),
    ("list key", P.proto() + P.emptyDict + P.emptyList + P.int(1) + P.op(.setItem) + P.stop,
     .refused, "SETITEM with a list key"),
    ("self insertion", P.proto() + P.emptyList + P.put(0) + P.get(0) + P.op(.append) + P.stop,
     .refused, "APPEND on a list that is already nested in another value"),
    ("mutate nested", P.proto() + P.emptyList + P.put(0) + P.op(.tuple1) + P.get(0) + P.int(1)
       + P.op(.append) + P.stop, .refused, "APPEND on a list that is already nested"),
    ("reduce on string", P.proto() + P.string("x") + P.emptyTuple + P.reduce + P.stop,
     .refused, "forbidden call: REDUCE on a str"),
    ("ordered dict args", P.proto() + P.global("collections", "OrderedDict") + P.emptyList + P.op(.tuple1)
       + P.reduce + P.stop, .refused, "forbidden call: collections.OrderedDict expects (); found (list,)"),
    ("reduce args not tuple",
     P.proto() + P.global("collections", "OrderedDict") + P.emptyList + P.reduce + P.stop,
     .refused, "forbidden call: collections.OrderedDict with list arguments"),
    ("storage called", P.proto() + P.global("torch", "FloatStorage") + P.emptyTuple + P.reduce + P.stop,
     .refused, "forbidden call: torch.FloatStorage may only appear inside a persistent id"),
    ("rebuild shape", P.proto() + P.global("torch._utils", "_rebuild_tensor_v2") + P.int(1) + P.op(.tuple1)
       + P.reduce + P.stop, .refused, "forbidden call: torch._utils._rebuild_tensor_v2 expects (storage, int"),
    ("hooks", P.proto() + P.global("torch._utils", "_rebuild_tensor_v2") + P.mark + P.storage() + P.int(0)
       + P.emptyTuple + P.emptyTuple + P.newFalse + P.emptyDict + P.op(.tuple) + P.reduce + P.stop,
     .refused, "backward_hooks must be an empty OrderedDict; found a dict"),
    ("conj", P.stateDict([("w", P.tensor(extra: P.emptyDict + P.mark + P.string("conj") + P.op(.newTrue)
       + P.op(.setItems)))]), .unsupported, "tensor metadata {'conj'} is not supported"),
    ("negative stride", P.stateDict([("w", P.tensor(stride: [3, -1]))]), .unsupported, "negative stride"),
    ("negative offset", P.stateDict([("w", P.tensor(offset: -1))]), .malformed, "negative storage offset -1"),
    ("rank mismatch", P.stateDict([("w", P.tensor(stride: [1]))]), .malformed, "2 sizes but 1 strides"),
    ("rank limit", P.stateDict([("w", P.tensor(size: Array(repeating: 1, count: 65),
       stride: Array(repeating: 1, count: 65)))]), .limitExceeded, "tensor size has 65 dimensions"),
    ("size overflow",
     P.stateDict([("w", P.tensor(size: Array(repeating: 1 << 31 - 1, count: 3), stride: [0, 0, 0]))]),
     .malformed, "more bytes than fit in 64 bits"),
    ("pid shape", P.proto() + P.mark + P.string("storage") + P.op(.tuple) + P.op(.binPersID) + P.stop,
     .refused, "persistent id must be ('storage', storage class, key, location, numel); found (str,)"),
    ("pid int", P.proto() + P.int(3) + P.op(.binPersID) + P.stop, .refused, "found an int"),
    ("pid missing record", P.proto() + P.storage(key: "9") + P.stop,
     .malformed, "persistent id names storage '9' but the archive has no such data record"),
    ("numel mismatch", P.proto() + P.storage(numel: 100) + P.stop,
     .malformed, "storage '0' declares 100 elements of F32 but record 't/data/0' holds 24 bytes"),
    ("numel overflow", P.proto() + P.mark + P.string("storage") + P.global("torch", "DoubleStorage")
       + P.string("0") + P.string("cpu") + P.op(.long1) + [8] + u64le(Int.max) + P.op(.tuple) + P.op(.binPersID)
       + P.stop, .malformed, "declares 9223372036854775807 elements of F64"),
    ("pid disagreement",
     P.proto() + P.storage(numel: 6) + P.storage("ByteStorage", numel: 24) + P.op(.tuple2) + P.stop,
     .malformed, "storage '0' is declared as 6 × F32 and again as 24 × U8"),
    ("v2 on untyped", P.stateDict([("w", P.tensor(storage: P.storage("storage.UntypedStorage", numel: 24)))]),
     .malformed, "_rebuild_tensor_v2 on an UntypedStorage"),
    ("build on dict", P.proto() + P.emptyDict + P.emptyDict + P.op(.build) + P.stop,
     .refused, "forbidden call: BUILD on a dict (only the top-level OrderedDict may be built, once)"),
    ("build nested", P.proto() + P.mark + P.orderedDict + P.emptyDict + P.op(.build) + P.op(.tuple) + P.stop,
     .refused, "forbidden call: BUILD on an OrderedDict"),
    ("build state", P.proto() + P.orderedDict + P.emptyDict + P.mark + P.string("__dict__") + P.emptyDict
       + P.op(.setItems) + P.op(.build) + P.stop,
     .refused, "BUILD state must be {'_metadata': dict}; found a dict with keys {'__dict__'}"),
    ("build list state", P.proto() + P.orderedDict + P.emptyList + P.op(.build) + P.stop,
     .refused, "BUILD state must be {'_metadata': dict}; found a list"),
    ("invalid utf8", P.proto() + P.op(.binUnicode) + u32le(2) + [0xC3, 0x28] + P.stop,
     .malformed, "BINUNICODE is not valid UTF-8"),
    ("lone surrogate", P.proto() + P.op(.binUnicode) + u32le(3) + [0xED, 0xA0, 0x80] + P.stop,
     .malformed, "BINUNICODE is not valid UTF-8"),
    ("short string", P.proto() + P.op(.binUnicode) + u32le(100) + [0x41] + P.stop,
     .malformed, "BINUNICODE operand runs past the end of the pickle"),
    ("long1 too long", P.proto() + P.op(.long1) + [9] + Array(repeating: 1, count: 9) + P.stop,
     .unsupported, "LONG1 of 9 bytes does not fit in 64 bits"),
    ("long4", P.proto() + P.op(.long4) + u32le(1) + [1] + P.stop,
     .refused, "opcode LONG4 (0x8b) is not allowed"),
    ("global newline", P.proto() + P.op(.global) + Array("os".utf8),
     .malformed, "GLOBAL operand runs past the end"),
    ("global control", P.proto() + P.global("os\u{1B}[2J", "system") + P.stop,
     .refused, "GLOBAL os\\x1b[2J.system"),
  ]

  @Test(arguments: refusals.indices)
  func refusesHostilePickles(index: Int) {
    let (label, pickle, kind, message) = Self.refusals[index]
    let error = caughtError { _ = try runPickle(pickle) }
    #expect(error?.kind == kind, "\(label): \(String(describing: error))")
    #expect(error?.reason.contains(message) == true, "\(label): \(String(describing: error))")
    #expect(error?.file == "test.pt")
    #expect((error?.offset ?? 0) >= 1000, "\(label): offsets are absolute file offsets")
  }

  static let limitCases: [(String, [UInt8], @Sendable (inout PickleMachine.Limits) -> Void, String)] = [
    ("marks", P.proto() + Array(repeating: PickleOpcode.mark.rawValue, count: 20_000) + P.stop,
     { _ in }, "more than 10000 nested MARKs"),
    ("opcodes", P.proto() + Array(repeating: PickleOpcode.none.rawValue, count: 50) + P.stop,
     { $0.maxOpcodes = 10 }, "more than 10 opcodes"),
    ("stack", P.proto() + Array(repeating: PickleOpcode.none.rawValue, count: 50) + P.stop,
     { $0.maxStackDepth = 20 }, "stack deeper than 20"),
    ("memo", P.proto() + P.op(.none) + (0..<10).flatMap { P.put(UInt8($0)) } + P.stop,
     { $0.maxMemoEntries = 5 }, "more than 5 memo entries"),
    ("string", P.proto() + P.string(String(repeating: "x", count: 100)) + P.stop,
     { $0.maxStringBytes = 64 }, "BINUNICODE of 100 bytes exceeds the 64-byte string limit"),
    ("nesting", P.proto() + P.emptyTuple + Array(repeating: PickleOpcode.tuple1.rawValue, count: 200) + P.stop,
     { _ in }, "values nested deeper than 100 levels"),
    ("container", P.proto() + P.emptyList + P.mark + Array(repeating: PickleOpcode.none.rawValue, count: 30)
       + P.op(.appends) + P.stop, { $0.maxContainerItems = 20 }, "list of more than 20 items"),
    ("pickle size", P.proto() + P.emptyDict + P.stop,
     { $0.maxPickleBytes = 3 }, "data.pkl is 4 bytes; the limit is 3"),
  ]

  @Test(arguments: limitCases.indices)
  func enforcesResourceLimits(index: Int) {
    let (label, pickle, adjust, message) = Self.limitCases[index]
    var limits = PickleMachine.Limits()
    adjust(&limits)
    let error = caughtError { _ = try runPickle(pickle, limits: limits) }
    #expect(error?.kind == .limitExceeded, "\(label): \(String(describing: error))")
    #expect(error?.reason.contains(message) == true, "\(label): \(String(describing: error))")
  }

  @Test func memoIndexesAreSparse() throws {
    // A huge memo index must not allocate anything proportional to it.
    let pickle = P.proto() + P.op(.none) + P.op(.longBinPut) + u32le(0xFFFF_FFF0) + P.op(.longBinGet)
      + u32le(0xFFFF_FFF0) + P.op(.tuple2) + P.stop
    guard case .tuple(let tuple) = try runPickle(pickle) else {
      Issue.record("expected a tuple")
      return
    }
    #expect(tuple.items.count == 2)
  }

  @Test func everyOpcodeByteIsHandledWithoutCrashing() {
    // Every byte value as the first opcode after PROTO, followed by junk: an error or a value,
    // never a crash.
    for byte in 0...255 {
      let pickle = P.proto() + [UInt8(byte)] + [0x01, 0x00, 0x00, 0x00, 0x41, 0x0A, 0x41, 0x0A] + P.stop
      let error = caughtError { _ = try runPickle(pickle) }
      if let opcode = PickleOpcode(rawValue: UInt8(byte)), !opcode.isAllowed {
        #expect(error?.reason.contains("opcode \(opcode.name)") == true, "byte \(byte)")
      }
    }
  }
}
