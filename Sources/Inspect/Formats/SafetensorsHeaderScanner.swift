/// One tensor entry of a safetensors header, before offset validation.
struct SafetensorsHeaderEntry: Equatable {
  var name: String
  var dtype: DType
  var shape: [Int]
  var begin: Int
  var end: Int
}

/// A fast path for the usual shape of a safetensors header.
///
/// It reads the JSON bytes directly into entries, without building a ``JSONValue`` tree, and
/// accepts only a strict subset of what the general path (``StrictJSONParser`` + typed checks)
/// accepts: plain strings without escapes, tensor objects with exactly the fields `dtype`,
/// `shape` and `data_offsets`, non-negative integer literals, `__metadata__` as `null` or a
/// string-to-string object. On anything else, including every error, it returns `nil` and the
/// caller runs the general path, which then produces the precise error message. The input must
/// already be known to be valid UTF-8.
struct SafetensorsHeaderScanner {
  /// What the scan found.
  struct Result {
    var entries: [SafetensorsHeaderEntry]
    var metadata: [String: String]?
  }

  private var cursor: JSONByteCursor

  private init(_ bytes: UnsafeRawBufferPointer) {
    cursor = JSONByteCursor(bytes)
  }

  private mutating func skipWhitespace() { cursor.skipWhitespace() }
  private mutating func consume(_ byte: UInt8) -> Bool { cursor.consume(byte) }
  private mutating func consumeNull() -> Bool { cursor.consumeNull() }
  private mutating func scanPlainString() -> String? { cursor.scanPlainString(validateUTF8: false) }
  private mutating func scanInteger() -> Int? { cursor.scanNonNegativeInteger() }

  /// The header's entries and metadata, or `nil` when the general path must decide.
  static func scan(_ bytes: UnsafeRawBufferPointer, maximumTensorCount: Int, maximumNameLength: Int) -> Result? {
    var scanner = SafetensorsHeaderScanner(bytes)
    return scanner.scanRoot(maximumTensorCount: maximumTensorCount, maximumNameLength: maximumNameLength)
  }

  private mutating func scanRoot(maximumTensorCount: Int, maximumNameLength: Int) -> Result? {
    skipWhitespace()
    guard consume(0x7B) else { return nil }
    var entries: [SafetensorsHeaderEntry] = []
    entries.reserveCapacity(cursor.bytes.count / 80)
    // Names in ascending ASCII order need no duplicate set; it is built only if the order
    // breaks (from the names seen so far).
    var ascending = AscendingASCIIKeys()
    var names: Set<String>?
    var metadata: [String: String]?
    var sawMetadata = false
    skipWhitespace()
    if !consume(0x7D) {
      while true {
        skipWhitespace()
        guard let key = scanPlainString() else { return nil }
        let keyEnd = cursor.position - 1
        let keyWasASCII = cursor.lastStringWasASCII
        skipWhitespace()
        guard consume(0x3A) else { return nil }
        skipWhitespace()
        if key == "__metadata__" {
          guard !sawMetadata else { return nil }
          sawMetadata = true
          if consumeNull() {
            metadata = nil
          } else {
            guard let map = scanMetadata() else { return nil }
            metadata = map
          }
        } else {
          guard key.utf8.count <= maximumNameLength, entries.count < maximumTensorCount,
            var entry = scanTensor()
          else { return nil }
          let keyBytes = UnsafeRawBufferPointer(
            rebasing: cursor.bytes[(keyEnd - key.utf8.count)..<keyEnd])
          if !ascending.admit(keyBytes, isASCII: keyWasASCII) {
            if names == nil { names = Set(entries.map(\.name)) }
            guard names?.insert(key).inserted == true else { return nil }
          }
          entry.name = key
          entries.append(entry)
        }
        skipWhitespace()
        if consume(0x2C) { continue }
        if consume(0x7D) { break }
        return nil
      }
    }
    skipWhitespace()
    guard cursor.atEnd else { return nil }
    return Result(entries: entries, metadata: metadata)
  }

  private enum Field {
    case dtype, shape, dataOffsets
  }

  /// `{"dtype": "...", "shape": [...], "data_offsets": [b, e]}` in any order, nothing else.
  private mutating func scanTensor() -> SafetensorsHeaderEntry? {
    guard consume(0x7B) else { return nil }
    var dtype: DType?
    var shape: [Int]?
    var offsets: (Int, Int)?
    for index in 0..<3 {
      skipWhitespace()
      // Field names are matched as bytes: no string is made for them.
      let field: Field
      if cursor.consumePlainString(equalTo: "dtype") {
        field = .dtype
      } else if cursor.consumePlainString(equalTo: "shape") {
        field = .shape
      } else if cursor.consumePlainString(equalTo: "data_offsets") {
        field = .dataOffsets
      } else {
        return nil
      }
      skipWhitespace()
      guard consume(0x3A) else { return nil }
      skipWhitespace()
      switch field {
      case .dtype:
        guard dtype == nil, let name = cursor.scanPlainStringBytes(), let value = Self.dtype(spelled: name)
        else { return nil }
        dtype = value
      case .shape:
        guard shape == nil, let dimensions = scanIntegerArray() else { return nil }
        shape = dimensions
      case .dataOffsets:
        guard offsets == nil, let pair = scanIntegerPair() else { return nil }
        offsets = pair
      }
      skipWhitespace()
      guard consume(index < 2 ? 0x2C : 0x7D) else { return nil }
    }
    guard let dtype, let shape, let offsets else { return nil }
    return SafetensorsHeaderEntry(name: "", dtype: dtype, shape: shape, begin: offsets.0, end: offsets.1)
  }

  /// A `{"key": "value", ...}` object with unique keys and string values, none of them a tensor
  /// field name (a tensor named `__metadata__` is the general path's to report).
  private mutating func scanMetadata() -> [String: String]? {
    guard consume(0x7B) else { return nil }
    var map: [String: String] = [:]
    skipWhitespace()
    if consume(0x7D) { return map }
    while true {
      skipWhitespace()
      guard let key = scanPlainString(), key != "dtype", key != "shape", key != "data_offsets" else { return nil }
      skipWhitespace()
      guard consume(0x3A) else { return nil }
      skipWhitespace()
      guard let value = scanPlainString(), map.updateValue(value, forKey: key) == nil else { return nil }
      skipWhitespace()
      if consume(0x2C) { continue }
      if consume(0x7D) { return map }
      return nil
    }
  }

  /// The safetensors spellings of every dtype, as bytes.
  private static let dtypeSpellings: [(bytes: [UInt8], dtype: DType)] = DType.allCases.map {
    (Array($0.rawValue.utf8), $0)
  }

  /// The dtype spelled exactly `name` (as `DType(rawValue:)` would read it), matched on bytes
  /// so that no string is made per tensor.
  private static func dtype(spelled name: UnsafeRawBufferPointer) -> DType? {
    candidates: for candidate in dtypeSpellings where candidate.bytes.count == name.count {
      for offset in 0..<name.count where name[offset] != candidate.bytes[offset] { continue candidates }
      return candidate.dtype
    }
    return nil
  }

  /// `[b, e]`: exactly two integers as ``scanIntegerArray()`` reads them, without an array.
  private mutating func scanIntegerPair() -> (Int, Int)? {
    guard consume(0x5B) else { return nil }
    skipWhitespace()
    guard let first = scanInteger() else { return nil }
    skipWhitespace()
    guard consume(0x2C) else { return nil }
    skipWhitespace()
    guard let second = scanInteger() else { return nil }
    skipWhitespace()
    guard consume(0x5D) else { return nil }
    return (first, second)
  }

  /// `[n, n, ...]` of non-negative integer literals without leading zeros, each fitting `Int`.
  private mutating func scanIntegerArray() -> [Int]? {
    guard consume(0x5B) else { return nil }
    var values: [Int] = []
    skipWhitespace()
    if consume(0x5D) { return values }
    while true {
      skipWhitespace()
      guard let value = scanInteger() else { return nil }
      values.append(value)
      skipWhitespace()
      if consume(0x2C) { continue }
      if consume(0x5D) { return values }
      return nil
    }
  }
}
