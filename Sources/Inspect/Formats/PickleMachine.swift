/// A restricted pickle interpreter: it *interprets* the `data.pkl` of a `torch.save` archive
/// into ``PickleValue`` data and never constructs objects, imports modules or calls anything.
///
/// Design and rules: `docs/hardening.md`; the opcodes are those of CPython `Lib/pickle.py`.
/// - Only the opcodes `torch.save` writes with protocols 1 to 5 run (``PickleOpcode/isAllowed``);
///   every other opcode is refused by name and offset.
/// - `GLOBAL` pushes a tag only for names on the allowlist (``PickleGlobal``); anything else is
///   refused naming the global, with a hint when it is a known-dangerous import.
/// - `REDUCE` pattern-matches the tag and the argument *shapes* and produces a descriptor
///   (an empty ordered dict, a tensor view); any other shape is a forbidden call.
/// - `BINPERSID` accepts only `("storage", StorageClass, key, location, numel)` naming an
///   existing record that holds exactly `numel` elements (CVE-2026-24747), the same for every
///   reference to the key.
/// - `APPEND(S)` only on lists, `SETITEM(S)` only on dicts (CVE-2026-24747), duplicate keys
///   refused, `BUILD` only on the top-level `OrderedDict` with a `{"_metadata": …}` state.
/// - The stream must end at `STOP` with one value, no open `MARK` and no trailing bytes;
///   `PROTO` (≤ 2) only at offset 0. Ops never reach below the innermost `MARK`.
/// - Resource limits (``Limits``) bound the input size, opcodes, stack, marks, memo, strings,
///   containers, tensor rank and nesting depth.
struct PickleMachine {
  /// Caps on what a pickle may make the interpreter do.
  struct Limits: Sendable {
    /// Largest accepted pickle, in bytes.
    var maxPickleBytes = 64 << 20
    /// Most opcodes executed.
    var maxOpcodes = 10_000_000
    /// Deepest value stack.
    var maxStackDepth = 100_000
    /// Most `MARK`s open at once.
    var maxMarkDepth = 10_000
    /// Most distinct memo indexes.
    var maxMemoEntries = 1_000_000
    /// Longest string, in bytes.
    var maxStringBytes = 1 << 20
    /// Most items in one tuple, list or dict.
    var maxContainerItems = 1_000_000
    /// Highest tensor rank.
    var maxRank = 64
    /// Deepest nesting of containers.
    var maxNesting = 100
    /// Largest value counted with shared (memo) references expanded.
    var maxExpandedSize = 10_000_000
  }

  /// What the interpreter needs to know about its surroundings.
  struct Context {
    /// The file path used in errors.
    var file: String
    /// The pickle's name in messages (`data.pkl`).
    var pickleName = "data.pkl"
    /// Absolute file offset of the pickle's first byte (errors report absolute offsets).
    var baseOffset = 0
    /// The storage records of the archive, by key (`"0"`, `"1"`, …).
    var storageRecords: [String: PickleStorageRecord] = [:]
    /// Whether the optional `_codecs.encode(str, "latin1")` form (bytes values) is accepted.
    var allowCodecsEncode = false
    /// The caps.
    var limits = Limits()
  }

  /// Runs the pickle in `bytes` and returns the single value it leaves.
  ///
  /// - Throws: ``CheckpointError``: `.refused` for disallowed opcodes, globals and calls,
  ///   `.unsupported` for torch features this reader does not handle, `.limitExceeded` for caps,
  ///   `.malformed` for everything else. Messages name the pickle offset in hex.
  static func run(_ bytes: UnsafeRawBufferPointer, context: Context) throws(CheckpointError) -> PickleValue {
    var machine = PickleMachine(bytes: bytes, context: context)
    return try machine.execute()
  }

  private let bytes: UnsafeRawBufferPointer
  private let context: Context
  private var limits: Limits { context.limits }
  private var position = 0
  private var stack: [PickleValue] = []
  private var marks: [Int] = []
  private var memo: [UInt32: PickleValue] = [:]
  private var declaredStorages: [String: PickleStorage] = [:]
  private var tensorDtypes: [String: DType] = [:]
  private var sawBuild = false

  private init(bytes: UnsafeRawBufferPointer, context: Context) {
    self.bytes = bytes
    self.context = context
  }

  // MARK: - Errors

  /// An error at pickle offset `offset`, prefixed `data.pkl offset 0x…: `.
  private func failure(_ kind: CheckpointError.Kind, at offset: Int, _ reason: String) -> CheckpointError {
    CheckpointError(
      kind, file: context.file, offset: UInt64(context.baseOffset + offset),
      reason: "\(context.pickleName) offset \(Self.hex(offset)): \(reason)")
  }

  static func hex(_ value: Int) -> String { "0x" + String(value, radix: 16) }

  // MARK: - Main loop

  private mutating func execute() throws(CheckpointError) -> PickleValue {
    guard bytes.count <= limits.maxPickleBytes else {
      throw CheckpointError(
        .limitExceeded, file: context.file, offset: UInt64(context.baseOffset),
        reason: "\(context.pickleName) is \(bytes.count) bytes; the limit is \(limits.maxPickleBytes)")
    }
    var opcodes = 0
    while true {
      let start = position
      guard position < bytes.count else {
        throw failure(.malformed, at: position, "pickle ends without STOP")
      }
      let byte = bytes[position]
      position += 1
      opcodes += 1
      guard opcodes <= limits.maxOpcodes else {
        throw failure(.limitExceeded, at: start, "more than \(limits.maxOpcodes) opcodes")
      }
      guard let opcode = PickleOpcode(rawValue: byte) else {
        throw failure(.malformed, at: start, "unknown opcode 0x\(String(byte, radix: 16))")
      }
      guard opcode.isAllowed else {
        throw failure(
          .refused, at: start, "opcode \(opcode.name) (0x\(String(byte, radix: 16))) is not allowed")
      }
      if opcode == .stop {
        return try finish(at: start)
      }
      try step(opcode, at: start)
      guard stack.count <= limits.maxStackDepth else {
        throw failure(.limitExceeded, at: start, "stack deeper than \(limits.maxStackDepth)")
      }
    }
  }

  private mutating func finish(at start: Int) throws(CheckpointError) -> PickleValue {
    guard marks.isEmpty else {
      throw failure(.malformed, at: start, "STOP with \(marks.count) MARK(s) still open")
    }
    guard stack.count == 1, let result = stack.first else {
      throw failure(.malformed, at: start, "STOP with \(stack.count) values on the stack (expected 1)")
    }
    guard position == bytes.count else {
      throw failure(
        .malformed, at: position, "\(bytes.count - position) trailing bytes after STOP")
    }
    return result
  }

  private mutating func step(_ opcode: PickleOpcode, at start: Int) throws(CheckpointError) {
    switch opcode {
    case .proto:
      let version = try readByte(opcode)
      guard start == 0 else {
        throw failure(.malformed, at: start, "PROTO is only allowed at offset 0 (found a second PROTO)")
      }
      guard version >= 2 && version <= 5 else {
        throw failure(
          .unsupported, at: start,
          "pickle protocol \(version) is not supported (torch.save writes 1 to 5; PROTO starts 2 to 5)")
      }
    case .mark:
      guard marks.count < limits.maxMarkDepth else {
        throw failure(.limitExceeded, at: start, "more than \(limits.maxMarkDepth) nested MARKs")
      }
      marks.append(stack.count)
    case .emptyTuple:
      stack.append(.tuple(PickleTuple([])))
    case .tuple:
      try push(tuple: try popToMark(opcode, at: start), at: start)
    case .tuple1, .tuple2, .tuple3:
      let count = opcode == .tuple1 ? 1 : opcode == .tuple2 ? 2 : 3
      try push(tuple: try pop(count, opcode, at: start), at: start)
    case .emptyList:
      stack.append(.list(PickleList()))
    case .emptyDict:
      stack.append(.dict(PickleDict(ordered: false)))
    case .append:
      let value = try pop(1, opcode, at: start)
      try append(value, opcode, at: start)
    case .appends:
      let values = try popToMark(opcode, at: start)
      try append(values, opcode, at: start)
    case .setItem:
      let pair = try pop(2, opcode, at: start)
      try setItems(pair, opcode, at: start)
    case .setItems:
      let pairs = try popToMark(opcode, at: start)
      try setItems(pairs, opcode, at: start)
    case .binPut:
      try put(UInt32(try readByte(opcode)), opcode, at: start)
    case .longBinPut:
      try put(try readInteger(UInt32.self, opcode), opcode, at: start)
    case .binGet:
      try get(UInt32(try readByte(opcode)), opcode, at: start)
    case .longBinGet:
      try get(try readInteger(UInt32.self, opcode), opcode, at: start)
    case .binInt:
      stack.append(.int(Int64(try readInteger(Int32.self, opcode))))
    case .binInt1:
      stack.append(.int(Int64(try readByte(opcode))))
    case .binInt2:
      stack.append(.int(Int64(try readInteger(UInt16.self, opcode))))
    case .long1:
      stack.append(.int(try readLong1(at: start)))
    case .binFloat:
      let raw = try read(8, opcode)
      var bits: UInt64 = 0
      for byte in raw { bits = bits << 8 | UInt64(byte) }
      stack.append(.float(Double(bitPattern: bits)))
    case .binUnicode:
      let length = try readInteger(UInt32.self, opcode)
      stack.append(.string(try readString(length: Int(length), opcode, at: start)))
    case .shortBinString:
      let length = try readByte(opcode)
      stack.append(.string(try readString(length: Int(length), opcode, at: start)))
    case .none:
      stack.append(.none)
    case .newTrue:
      stack.append(.bool(true))
    case .newFalse:
      stack.append(.bool(false))
    case .global:
      let module = try readLine(at: start)
      let name = try readLine(at: start)
      try global(module: module, name: name, opcode, at: start)
    case .stackGlobal:
      let operands = try pop(2, opcode, at: start)
      guard case .string(let module) = operands[0], case .string(let name) = operands[1] else {
        throw failure(.malformed, at: start, "STACK_GLOBAL needs two strings (module, name)")
      }
      try global(module: module, name: name, opcode, at: start)
    case .memoize:
      try put(UInt32(truncatingIfNeeded: memo.count), opcode, at: start)
    case .frame:
      // Protocol 4 framing: an 8-byte length of the next frame, a hint for buffered readers.
      // The whole pickle is in memory, so it is only checked to stay inside it.
      let length = try readInteger(UInt64.self, opcode)
      guard length <= UInt64(bytes.count - position) else {
        throw failure(.malformed, at: start, "FRAME of \(length) bytes runs past the end of the pickle")
      }
    case .shortBinUnicode:
      let length = try readByte(opcode)
      stack.append(.string(try readString(length: Int(length), opcode, at: start)))
    case .int:
      // Protocol 0/1 text integer: `I<decimal>\n`; `I00` and `I01` are False and True.
      let line = try readLine(at: start)
      switch line {
      case "00": stack.append(.bool(false))
      case "01": stack.append(.bool(true))
      default:
        guard let value = Int64(line) else {
          throw failure(.malformed, at: start, "INT operand is not a 64-bit decimal integer")
        }
        stack.append(.int(value))
      }
    case .binPersID:
      let pid = try pop(1, opcode, at: start)[0]
      stack.append(.storage(try storage(from: pid, at: start)))
    case .reduce:
      let operands = try pop(2, opcode, at: start)
      stack.append(try reduce(callable: operands[0], arguments: operands[1], at: start))
    case .build:
      let operands = try pop(2, opcode, at: start)
      stack.append(operands[0])
      try build(target: operands[0], state: operands[1], at: start)
    default:
      // Unreachable: `isAllowed` admits only the opcodes above.
      throw failure(.refused, at: start, "opcode \(opcode.name) is not allowed")
    }
  }

  // MARK: - Reading operands

  private mutating func read(
    _ count: Int, _ opcode: PickleOpcode
  ) throws(CheckpointError) -> UnsafeRawBufferPointer {
    guard count >= 0, count <= bytes.count - position else {
      throw failure(.malformed, at: position, "\(opcode.name) operand runs past the end of the pickle")
    }
    defer { position += count }
    return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
  }

  private mutating func readByte(_ opcode: PickleOpcode) throws(CheckpointError) -> UInt8 {
    try read(1, opcode)[0]
  }

  private mutating func readInteger<T: FixedWidthInteger>(
    _ type: T.Type, _ opcode: PickleOpcode
  ) throws(CheckpointError) -> T {
    let raw = try read(MemoryLayout<T>.size, opcode)
    var value: T = 0
    for (index, byte) in raw.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * index) }
    return value
  }

  private mutating func readLong1(at start: Int) throws(CheckpointError) -> Int64 {
    let count = Int(try readByte(.long1))
    guard count <= 8 else {
      throw failure(.unsupported, at: start, "LONG1 of \(count) bytes does not fit in 64 bits")
    }
    let raw = try read(count, .long1)
    guard count > 0 else { return 0 }
    var value: UInt64 = 0
    for (index, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * index) }
    if count < 8, raw[count - 1] & 0x80 != 0 {
      value |= ~UInt64(0) << (8 * count)  // sign-extend
    }
    return Int64(bitPattern: value)
  }

  private mutating func readString(
    length: Int, _ opcode: PickleOpcode, at start: Int
  ) throws(CheckpointError) -> String {
    guard length <= limits.maxStringBytes else {
      throw failure(
        .limitExceeded, at: start, "\(opcode.name) of \(length) bytes exceeds the "
          + "\(limits.maxStringBytes)-byte string limit")
    }
    let raw = try read(length, opcode)
    guard let text = String(validating: raw, as: UTF8.self) else {
      throw failure(.malformed, at: start, "\(opcode.name) is not valid UTF-8")
    }
    return text
  }

  /// Reads one newline-terminated line of a `GLOBAL` operand.
  private mutating func readLine(at start: Int) throws(CheckpointError) -> String {
    let lineStart = position
    var end = position
    while end < bytes.count, bytes[end] != 0x0A {
      end += 1
      guard end - lineStart <= 256 else {
        throw failure(.malformed, at: start, "GLOBAL operand longer than 256 bytes")
      }
    }
    guard end < bytes.count else {
      throw failure(.malformed, at: start, "GLOBAL operand runs past the end of the pickle")
    }
    position = end + 1
    guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<end]), as: UTF8.self)
    else {
      throw failure(.malformed, at: start, "GLOBAL operand is not valid UTF-8")
    }
    return text
  }

  // MARK: - Stack

  /// The lowest stack index an opcode may touch: ops never reach below the innermost MARK.
  private var floor: Int { marks.last ?? 0 }

  private mutating func pop(
    _ count: Int, _ opcode: PickleOpcode, at start: Int
  ) throws(CheckpointError) -> [PickleValue] {
    guard stack.count - floor >= count else {
      throw failure(
        .malformed, at: start, "\(opcode.name) needs \(count) value(s) but the stack has "
          + "\(stack.count - floor) above the last MARK")
    }
    let values = Array(stack[(stack.count - count)...])
    stack.removeLast(count)
    return values
  }

  private mutating func popToMark(
    _ opcode: PickleOpcode, at start: Int
  ) throws(CheckpointError) -> [PickleValue] {
    guard let mark = marks.popLast() else {
      throw failure(.malformed, at: start, "\(opcode.name) without a MARK")
    }
    let values = Array(stack[mark...])
    stack.removeSubrange(mark...)
    return values
  }

  private mutating func push(tuple items: [PickleValue], at start: Int) throws(CheckpointError) {
    guard items.count <= limits.maxContainerItems else {
      throw failure(.limitExceeded, at: start, "tuple of \(items.count) items exceeds the limit")
    }
    let tuple = PickleTuple(items)
    guard tuple.depth <= limits.maxNesting else {
      throw failure(.limitExceeded, at: start, "values nested deeper than \(limits.maxNesting) levels")
    }
    try checkExpandedSize(tuple.expandedSize, at: start)
    for item in items { item.freeze() }
    stack.append(.tuple(tuple))
  }

  /// The container the next APPEND/SETITEM targets: the top of the stack (above the last MARK).
  private func target(_ opcode: PickleOpcode, at start: Int) throws(CheckpointError) -> PickleValue {
    guard stack.count > floor, let top = stack.last else {
      throw failure(.malformed, at: start, "\(opcode.name) has no target on the stack")
    }
    return top
  }

  private mutating func append(
    _ values: [PickleValue], _ opcode: PickleOpcode, at start: Int
  ) throws(CheckpointError) {
    let top = try target(opcode, at: start)
    guard case .list(let list) = top else {
      throw failure(
        .refused, at: start, "forbidden call: \(opcode.name) on \(top.typeWithArticle) "
          + "(only lists accept APPEND)")
    }
    for value in values { value.freeze() }
    guard !list.isFrozen else {
      throw failure(.refused, at: start, "\(opcode.name) on a list that is already nested in another value")
    }
    guard list.items.count + values.count <= limits.maxContainerItems else {
      throw failure(.limitExceeded, at: start, "list of more than \(limits.maxContainerItems) items")
    }
    let depth = 1 + (values.map(\.depth).max() ?? 0)
    guard depth <= limits.maxNesting else {
      throw failure(.limitExceeded, at: start, "values nested deeper than \(limits.maxNesting) levels")
    }
    let expanded = PickleValue.expandedSize(of: values, base: list.expandedSize)
    try checkExpandedSize(expanded, at: start)
    list.depth = max(list.depth, depth)
    list.expandedSize = expanded
    list.holdsTensor = list.holdsTensor || values.contains { $0.holdsTensor }
    list.items.append(contentsOf: values)
  }

  private mutating func setItems(
    _ values: [PickleValue], _ opcode: PickleOpcode, at start: Int
  ) throws(CheckpointError) {
    let top = try target(opcode, at: start)
    guard case .dict(let dict) = top else {
      throw failure(
        .refused, at: start, "forbidden call: \(opcode.name) on \(top.typeWithArticle) "
          + "(only dicts accept SETITEM)")
    }
    guard values.count % 2 == 0 else {
      throw failure(.malformed, at: start, "\(opcode.name) with an odd number (\(values.count)) of items")
    }
    for value in values { value.freeze() }
    guard !dict.isFrozen else {
      throw failure(.refused, at: start, "\(opcode.name) on a dict that is already nested in another value")
    }
    guard dict.entries.count + values.count / 2 <= limits.maxContainerItems else {
      throw failure(.limitExceeded, at: start, "dict of more than \(limits.maxContainerItems) items")
    }
    let depth = 1 + (values.map(\.depth).max() ?? 0)
    guard depth <= limits.maxNesting else {
      throw failure(.limitExceeded, at: start, "values nested deeper than \(limits.maxNesting) levels")
    }
    let expanded = PickleValue.expandedSize(of: values, base: dict.expandedSize)
    try checkExpandedSize(expanded, at: start)
    var index = 0
    while index < values.count {
      let key = values[index]
      guard let hashable = PickleKey(key) else {
        throw failure(.refused, at: start, "\(opcode.name) with \(key.typeWithArticle) key")
      }
      guard dict.keys.insert(hashable).inserted else {
        throw failure(.malformed, at: start, "duplicate dict key \(Self.describe(key))")
      }
      dict.entries.append((key: key, value: values[index + 1]))
      dict.holdsTensor = dict.holdsTensor || values[index + 1].holdsTensor
      index += 2
    }
    dict.depth = max(dict.depth, depth)
    dict.expandedSize = expanded
  }

  /// Refuses values that memo references have made too large to walk ("billion laughs").
  private func checkExpandedSize(_ size: Int, at start: Int) throws(CheckpointError) {
    guard size <= limits.maxExpandedSize else {
      throw failure(
        .limitExceeded, at: start, "value expands to more than \(limits.maxExpandedSize) items through "
          + "shared memo references")
    }
  }

  private mutating func put(_ index: UInt32, _ opcode: PickleOpcode, at start: Int) throws(CheckpointError) {
    guard stack.count > floor, let top = stack.last else {
      throw failure(.malformed, at: start, "\(opcode.name) with an empty stack")
    }
    if memo[index] == nil, memo.count >= limits.maxMemoEntries {
      throw failure(.limitExceeded, at: start, "more than \(limits.maxMemoEntries) memo entries")
    }
    memo[index] = top
  }

  private mutating func get(_ index: UInt32, _ opcode: PickleOpcode, at start: Int) throws(CheckpointError) {
    guard let value = memo[index] else {
      throw failure(.malformed, at: start, "\(opcode.name) of memo index \(index), which was never set")
    }
    stack.append(value)
  }

  // MARK: - GLOBAL, BINPERSID, REDUCE, BUILD

  private mutating func global(
    module: String, name: String, _ opcode: PickleOpcode, at start: Int
  ) throws(CheckpointError) {
    let shown = ZipArchive.printable(module) + "." + ZipArchive.printable(name)
    switch PickleGlobal.resolve(module: module, name: name, allowCodecsEncode: context.allowCodecsEncode) {
    case .allowed(let global):
      stack.append(.global(global))
    case .unsupported(let reason):
      throw CheckpointError(
        .unsupported, file: context.file, offset: UInt64(context.baseOffset + start),
        reason: "\(opcode.name) \(shown) at \(context.pickleName) offset \(Self.hex(start)): \(reason)")
    case .forbidden(let dangerous):
      throw CheckpointError(
        .refused, file: context.file, offset: UInt64(context.baseOffset + start),
        reason: "refused: \(opcode.name) \(shown) at \(context.pickleName) offset \(Self.hex(start)) "
          + "(not in the allowlist; \(dangerous ? "dangerous" : "unknown") import)")
    }
  }

  private mutating func storage(from pid: PickleValue, at start: Int) throws(CheckpointError) -> PickleStorage {
    guard case .tuple(let tuple) = pid, tuple.items.count == 5,
      case .string("storage") = tuple.items[0],
      case .global(.storage(let kind)) = tuple.items[1],
      case .string(let key) = tuple.items[2],
      case .string(let location) = tuple.items[3],
      case .int(let numel64) = tuple.items[4]
    else {
      throw failure(
        .refused, at: start, "persistent id must be ('storage', storage class, key, location, numel); "
          + "found \(Self.describeShape(pid))")
    }
    guard let record = context.storageRecords[key] else {
      throw failure(
        .malformed, at: start, "persistent id names storage '\(ZipArchive.printable(key))' but the "
          + "archive has no such data record")
    }
    let elementSize = kind.elementSize
    guard numel64 >= 0, numel64 <= Int64(Int.max / elementSize),
      Int(numel64) * elementSize == record.length
    else {
      throw failure(
        .malformed, at: start, "storage '\(key)' declares \(numel64) elements of \(kind.label) "
          + "but record '\(record.entryName)' holds \(record.length) bytes")
    }
    let storage = PickleStorage(
      key: key, kind: kind, location: location, numel: Int(numel64), recordOffset: record.offset,
      recordLength: record.length)
    if let earlier = declaredStorages[key] {
      guard earlier.kind == kind, earlier.numel == storage.numel else {
        throw failure(
          .malformed, at: start, "storage '\(key)' is declared as \(earlier.numel) × \(earlier.kind.label) "
            + "and again as \(storage.numel) × \(kind.label)")
      }
    } else {
      declaredStorages[key] = storage
    }
    return storage
  }

  private mutating func reduce(
    callable: PickleValue, arguments: PickleValue, at start: Int
  ) throws(CheckpointError) -> PickleValue {
    guard case .global(let global) = callable else {
      throw failure(.refused, at: start, "forbidden call: REDUCE on \(callable.typeWithArticle)")
    }
    guard case .tuple(let tuple) = arguments else {
      throw failure(
        .refused, at: start, "forbidden call: \(global.qualifiedName) with \(arguments.typeDescription) "
          + "arguments (expected a tuple)")
    }
    let args = tuple.items
    switch global {
    case .orderedDict:
      guard args.isEmpty else {
        throw forbiddenCall(global, expected: "()", found: arguments, at: start)
      }
      return .dict(PickleDict(ordered: true))
    case .rebuildTensorV2, .rebuildTensorV3:
      return .tensor(try rebuildTensor(global, arguments: arguments, at: start))
    case .rebuildParameter:
      guard args.count == 3, case .tensor(let tensor) = args[0], case .bool = args[1],
        Self.isEmptyOrderedDict(args[2])
      else {
        throw forbiddenCall(global, expected: "(tensor, bool, OrderedDict())", found: arguments, at: start)
      }
      return .tensor(tensor)
    case .codecsEncode:
      guard args.count == 2, case .string(let text) = args[0], case .string("latin1") = args[1] else {
        throw forbiddenCall(global, expected: "(str, 'latin1')", found: arguments, at: start)
      }
      var out = [UInt8]()
      for scalar in text.unicodeScalars {
        guard scalar.value <= 0xFF else {
          throw failure(.malformed, at: start, "_codecs.encode: text is not latin-1")
        }
        out.append(UInt8(scalar.value))
      }
      return .bytes(out)
    case .storage, .dtype:
      throw failure(
        .refused, at: start, "forbidden call: \(global.qualifiedName) may only appear inside a "
          + "persistent id or as a dtype argument")
    }
  }

  private mutating func rebuildTensor(
    _ global: PickleGlobal, arguments: PickleValue, at start: Int
  ) throws(CheckpointError) -> PickleTensor {
    guard case .tuple(let tuple) = arguments else {
      throw forbiddenCall(global, expected: "a tuple", found: arguments, at: start)
    }
    let args = tuple.items
    let isV3 = global == .rebuildTensorV3
    let fixed = isV3 ? 7 : 6
    let expected = isV3
      ? "(storage, int, tuple of ints, tuple of ints, bool, OrderedDict(), dtype[, dict])"
      : "(storage, int, tuple of ints, tuple of ints, bool, OrderedDict()[, dict])"
    guard args.count == fixed || args.count == fixed + 1,
      case .storage(let storage) = args[0],
      case .int(let offset64) = args[1],
      case .tuple(let sizeTuple) = args[2],
      case .tuple(let strideTuple) = args[3],
      case .bool = args[4],
      case .dict(let hooks) = args[5]
    else {
      throw forbiddenCall(global, expected: expected, found: arguments, at: start)
    }
    guard hooks.isOrdered, hooks.entries.isEmpty else {
      throw failure(
        .refused, at: start, "\(global.qualifiedName): backward_hooks must be an empty OrderedDict; "
          + "found \(args[5].typeWithArticle) of \(hooks.entries.count) entries")
    }
    let dtype: DType
    if isV3 {
      guard case .global(.dtype(let declared)) = args[6] else {
        throw forbiddenCall(global, expected: expected, found: arguments, at: start)
      }
      guard storage.kind == .untyped else {
        throw failure(
          .malformed, at: start, "_rebuild_tensor_v3 on a typed \(storage.kind.label) storage "
            + "(expected UntypedStorage)")
      }
      dtype = declared
    } else {
      guard case .typed(let typed) = storage.kind else {
        throw failure(.malformed, at: start, "_rebuild_tensor_v2 on an UntypedStorage (no dtype)")
      }
      dtype = typed
    }
    if args.count == fixed + 1 {
      guard case .dict(let metadata) = args[fixed] else {
        throw forbiddenCall(global, expected: expected, found: arguments, at: start)
      }
      guard metadata.entries.isEmpty else {
        let keys = metadata.entries.map { Self.describe($0.key) }.joined(separator: ", ")
        throw failure(
          .unsupported, at: start, "tensor metadata {\(keys)} is not supported (conjugate/negative "
            + "bits or other flags would change the values)")
      }
    }
    let shape = try integers(sizeTuple, what: "size", at: start)
    let strides = try integers(strideTuple, what: "stride", at: start)
    guard shape.count == strides.count else {
      throw failure(
        .malformed, at: start, "tensor has \(shape.count) sizes but \(strides.count) strides")
    }
    guard offset64 >= 0 else {
      throw failure(.malformed, at: start, "tensor has a negative storage offset \(offset64)")
    }
    guard shape.allSatisfy({ $0 >= 0 }) else {
      throw failure(.malformed, at: start, "tensor has a negative size in \(shape)")
    }
    guard strides.allSatisfy({ $0 >= 0 }) else {
      throw failure(.unsupported, at: start, "tensor has a negative stride in \(strides)")
    }
    guard checkedByteCount(shape: shape, dtype: dtype) != nil else {
      throw failure(.malformed, at: start, "tensor of shape \(shape) has more bytes than fit in 64 bits")
    }
    if let earlier = tensorDtypes[storage.key], earlier != dtype {
      throw failure(
        .malformed, at: start, "tensors viewing storage '\(storage.key)' disagree on dtype "
          + "(\(earlier.rawValue) and \(dtype.rawValue))")
    }
    tensorDtypes[storage.key] = dtype
    return PickleTensor(
      storage: storage, dtype: dtype, storageOffset: Int(offset64), shape: shape, strides: strides,
      pickleOffset: start)
  }

  private func integers(_ tuple: PickleTuple, what: String, at start: Int) throws(CheckpointError) -> [Int] {
    guard tuple.items.count <= limits.maxRank else {
      throw failure(
        .limitExceeded, at: start, "tensor \(what) has \(tuple.items.count) dimensions; the limit is "
          + "\(limits.maxRank)")
    }
    var out = [Int]()
    out.reserveCapacity(tuple.items.count)
    for item in tuple.items {
      guard case .int(let value) = item else {
        throw failure(
          .refused, at: start, "tensor \(what) must be a tuple of ints; found \(item.typeWithArticle)")
      }
      out.append(Int(value))
    }
    return out
  }

  private mutating func build(target: PickleValue, state: PickleValue, at start: Int) throws(CheckpointError) {
    guard case .dict(let root) = target, root.isOrdered, !root.isFrozen, stack.count == 1, marks.isEmpty,
      !sawBuild
    else {
      throw failure(
        .refused, at: start, "forbidden call: BUILD on \(target.typeWithArticle) (only the "
          + "top-level OrderedDict may be built, once)")
    }
    guard case .dict(let stateDict) = state, stateDict.entries.count == 1,
      case .string("_metadata") = stateDict.entries[0].key,
      case .dict = stateDict.entries[0].value
    else {
      throw failure(
        .refused, at: start, "forbidden call: BUILD state must be {'_metadata': dict}; found "
          + Self.describeShape(state))
    }
    // The module version metadata is not needed for reading tensors; it is checked and dropped.
    sawBuild = true
  }

  private func forbiddenCall(
    _ global: PickleGlobal, expected: String, found: PickleValue, at start: Int
  ) -> CheckpointError {
    failure(
      .refused, at: start, "forbidden call: \(global.qualifiedName) expects \(expected); found "
        + Self.describeShape(found))
  }

  private static func isEmptyOrderedDict(_ value: PickleValue) -> Bool {
    guard case .dict(let dict) = value else { return false }
    return dict.isOrdered && dict.entries.isEmpty
  }

  // MARK: - Descriptions

  /// A scalar's repr, or the type of anything else; strings are shortened.
  static func describe(_ value: PickleValue) -> String {
    switch value {
    case .string(let text):
      let shown = ZipArchive.printable(String(text.prefix(60)))
      return "'\(shown)\(text.count > 60 ? "…" : "")'"
    case .int(let number): return String(number)
    case .bool(let flag): return flag ? "True" : "False"
    case .none: return "None"
    default: return value.typeDescription
    }
  }

  /// The value's shape one level down: `(str, global torch.FloatStorage, int)`.
  static func describeShape(_ value: PickleValue) -> String {
    switch value {
    case .tuple(let tuple):
      return "(" + tuple.items.prefix(10).map(\.typeDescription).joined(separator: ", ")
        + (tuple.items.count > 10 ? ", …" : "") + (tuple.items.count == 1 ? ",)" : ")")
    case .dict(let dict):
      let keys = dict.entries.prefix(5).map { describe($0.key) }.joined(separator: ", ")
      return "\(value.typeWithArticle) with keys {\(keys)\(dict.entries.count > 5 ? ", …" : "")}"
    default:
      return value.typeWithArticle
    }
  }
}
