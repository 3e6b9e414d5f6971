/// Reads and validates safetensors headers.
///
/// The layout is an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON, then the
/// tensor data. ``readHeader(from:)`` enforces every rule of the reference Rust reader
/// (`SafeTensors::read_metadata` + `Metadata::validate` in huggingface/safetensors
/// `safetensors/src/tensor.rs`)
/// in the same order, and in addition rejects duplicate names (the reference keeps the last
/// one silently), caps the tensor count and the name length, and rejects a tensor named
/// `__metadata__`. No tensor bytes are read.
package enum SafetensorsReader {
  /// The validated header of a safetensors file.
  package struct Header: Sendable {
    /// The tensors, in the order of their data offsets.
    package var tensors: [TensorInfo]
    /// The `__metadata__` map, if present (`null` counts as absent).
    package var metadata: [String: String]?
    /// The header length `N` (the JSON, including any padding).
    package var headerLength: Int
    /// The absolute file offset where the tensor data begins (`8 + N`).
    package var dataStart: Int { 8 + headerLength }
  }

  /// The largest header accepted, as in the reference reader (`MAX_HEADER_SIZE`).
  package static let maximumHeaderLength = 100_000_000
  /// The most tensors one file may declare.
  package static let maximumTensorCount = 1_000_000
  /// The longest tensor name accepted, in UTF-8 bytes.
  package static let maximumNameLength = 16_384

  /// Reads and validates the header of `file`.
  ///
  /// - Throws: ``CheckpointError`` of kind `.limitExceeded` when a cap is exceeded and
  ///   `.malformed` for every other violation, naming the file, the absolute byte offset where
  ///   it is meaningful, and the tensor where one is concerned.
  package static func readHeader(from file: MappedFile) throws(CheckpointError) -> Header {
    try readHeader(bytes: file.bytes, path: file.path)
  }

  /// Reads and validates a safetensors header from `bytes` (a whole file), reporting errors
  /// against `path`.
  ///
  /// This is also the entry point for a header fetched on its own (a ranged read of a remote
  /// file's first `8 + N` bytes, followed by a stand-in for the data): the checks are the same.
  package static func readHeader(bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> Header {
    let failure = FailureFactory(path: path)

    // 1. Room for the length prefix.
    guard bytes.count >= 8 else {
      throw failure(nil, "file is \(bytes.count) bytes, too small for the 8-byte header length")
    }
    let reader = ByteReader(bytes, file: path)
    let declared = try reader.littleEndian(UInt64.self, at: 0, what: "header length")
    // 2. The header cap.
    guard declared <= UInt64(maximumHeaderLength) else {
      throw failure(0, kind: .limitExceeded, "header length \(declared) exceeds the \(maximumHeaderLength)-byte limit")
    }
    let headerLength = Int(declared)
    // 3. The header must fit in the file (8 + N cannot overflow: N ≤ 100 MB).
    guard headerLength <= bytes.count - 8 else {
      throw failure(
        0, "header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
    }
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
    // 4. UTF-8.
    if let bad = UTF8Validation.firstInvalidByte(in: headerBytes) {
      throw failure(8 + bad, "header is not valid UTF-8")
    }
    // 5. Strict JSON, read straight into typed entries.
    var (entries, metadata) = try parseEntries(headerBytes, path: path)

    // 6. Offsets: sorted, contiguous from 0, each span the size its shape and dtype need.
    // Writers lay entries out in offset order: sort only when they are not.
    let inOrder = entries.indices.dropFirst().allSatisfy {
      (entries[$0 - 1].begin, entries[$0 - 1].end) <= (entries[$0].begin, entries[$0].end)
    }
    if !inOrder { entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) } }
    let dataStart = 8 + headerLength
    var expectedBegin = 0
    var previousName: String?
    var tensors: [TensorInfo] = []
    tensors.reserveCapacity(entries.count)
    for entry in entries {
      var offsets: String { "data_offsets [\(entry.begin), \(entry.end)]" }
      if entry.begin > expectedBegin {
        throw failure(
          absolute(dataStart, expectedBegin), tensor: entry.name,
          "\(offsets) leave a gap after byte \(expectedBegin)")
      }
      if entry.begin < expectedBegin {
        throw failure(
          absolute(dataStart, entry.begin), tensor: entry.name,
          "\(offsets) overlap tensor '\(previousName ?? "")', which ends at byte "
            + "\(expectedBegin)")
      }
      if entry.end < entry.begin {
        throw failure(
          absolute(dataStart, entry.begin), tensor: entry.name,
          "\(offsets) end before they begin")
      }
      var shapeText: String { "shape \(entry.shape) of \(entry.dtype.rawValue)" }
      var elements = 1
      for dimension in entry.shape {
        let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
        guard !overflow else {
          throw failure(
            absolute(dataStart, entry.begin), tensor: entry.name,
            "\(shapeText) overflows the element count")
        }
        elements = product
      }
      let (bits, bitsOverflow) = elements.multipliedReportingOverflow(by: entry.dtype.bitsPerElement)
      guard !bitsOverflow else {
        throw failure(
          absolute(dataStart, entry.begin), tensor: entry.name, "\(shapeText) overflows the byte count")
      }
      guard bits % 8 == 0 else {
        throw failure(
          absolute(dataStart, entry.begin), tensor: entry.name,
          "\(shapeText) is \(bits) bits, not a whole number of bytes")
      }
      let span = entry.end - entry.begin
      guard span == bits / 8 else {
        throw failure(
          absolute(dataStart, entry.begin), tensor: entry.name,
          "\(shapeText) needs \(bits / 8) bytes but \(offsets) span \(span)")
      }
      let (start, startOverflow) = dataStart.addingReportingOverflow(entry.begin)
      guard !startOverflow else {
        throw failure(nil, tensor: entry.name, "\(offsets) overflow the file offset")
      }
      tensors.append(
        TensorInfo(
          name: entry.name, dtype: entry.dtype, shape: entry.shape, file: path,
          layout: .contiguous(offset: start, length: span)))
      expectedBegin = entry.end
      previousName = entry.name
    }

    // 7. The data must end exactly at the end of the file.
    let (dataEnd, endOverflow) = dataStart.addingReportingOverflow(expectedBegin)
    if endOverflow || dataEnd > bytes.count {
      throw failure(
        dataStart,
        "tensor data needs \(expectedBegin) bytes after the header but the file has "
          + "\(bytes.count - dataStart) (the file is truncated)")
    }
    if dataEnd < bytes.count {
      throw failure(
        dataEnd,
        "\(bytes.count - dataEnd) trailing byte\(bytes.count - dataEnd == 1 ? "" : "s") after the tensor data, "
          + "which ends at byte \(dataEnd) of \(bytes.count)")
    }
    return Header(tensors: tensors, metadata: metadata, headerLength: headerLength)
  }

  // MARK: - Header entries

  /// One tensor entry of the header, before offset validation.
  private struct Entry {
    var name: String
    var dtype: DType
    var shape: [Int]
    var begin: Int
    var end: Int
  }

  /// The header's entries and metadata, read in one pass of ``StrictJSONParser`` without a
  /// tree for the entries (a header may declare 100,000 tensors).
  ///
  /// Every JSON error, wherever it is, comes before any rule about an entry (as if the whole
  /// document were parsed first); among entries, the first one that breaks a rule is reported,
  /// rules checked in the order of ``parseEntry(name:_:path:)``.
  private static func parseEntries(
    _ headerBytes: UnsafeRawBufferPointer, path: String
  ) throws(CheckpointError) -> ([Entry], [String: String]?) {
    let failure = FailureFactory(path: path)
    var parser = StrictJSONParser(headerBytes)
    var metadata: [String: String]?
    var entries: [Entry] = []
    // The first rule broken, reported once the whole header has parsed.
    var problem: CheckpointError?
    do throws(StrictJSONParser.Failure) {
      if parser.nextValueKind() != .object {
        let start = parser.offsetOfNextValue()
        let root = try parser.parseValue()
        try parser.finish()
        problem = failure(8 + start, "header is \(describe(root)), not an object")
      } else {
        // An entry takes at least 50 bytes of JSON.
        entries.reserveCapacity(headerBytes.count / 64)
        try parser.forEachMember { parser, key, keyOffset throws(StrictJSONParser.Failure) in
          guard problem == nil else {
            _ = try parser.parseValue()
            return
          }
          if key == "__metadata__" {
            let value = try parser.parseValue()
            do throws(CheckpointError) {
              metadata = try parseMetadata(value, path: path)
            } catch {
              problem = located(error, keyOffset: keyOffset)
            }
            return
          }
          guard entries.count < maximumTensorCount else {
            problem = failure(8, kind: .limitExceeded, "header declares more than \(maximumTensorCount) tensors")
            _ = try parser.parseValue()
            return
          }
          switch try parseEntry(name: key, &parser, path: path) {
          case .success(let entry): entries.append(entry)
          case .failure(let error): problem = located(error, keyOffset: keyOffset)
          }
        }
        try parser.finish()
      }
    } catch {
      throw jsonFailure(error, header: headerBytes, path: path)
    }
    if let problem { throw problem }
    return (entries, metadata)
  }

  /// Builds errors about one file.
  private struct FailureFactory {
    let path: String

    func callAsFunction(
      _ offset: Int?, tensor: String? = nil, kind: CheckpointError.Kind = .malformed, _ reason: String
    ) -> CheckpointError {
      CheckpointError(kind, file: path, offset: offset.map { UInt64(max(0, $0)) }, tensor: tensor, reason: reason)
    }
  }


  /// `error` with its offset moved to the key (at `keyOffset` of the header) it is about.
  private static func located(_ error: CheckpointError, keyOffset: Int) -> CheckpointError {
    var moved = error
    moved.offset = UInt64(8 + keyOffset)
    return moved
  }

  private static func absolute(_ dataStart: Int, _ relative: Int) -> Int? {
    let (sum, overflow) = dataStart.addingReportingOverflow(relative)
    return overflow ? nil : sum
  }

  private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }

  private static func parseMetadata(_ value: JSONValue, path: String) throws(CheckpointError) -> [String: String]? {
    func failure(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, file: path, offset: 8, reason: reason)
    }
    switch value {
    case .null:
      return nil
    case .object(let members):
      let tensorFields: Set<String> = ["dtype", "shape", "data_offsets"]
      if members.contains(where: { tensorFields.contains($0.key) }) {
        throw failure("a tensor may not be named '__metadata__' (the name is reserved for metadata)")
      }
      var map: [String: String] = [:]
      map.reserveCapacity(members.count)
      for member in members {
        guard case .string(let text) = member.value else {
          throw failure(
            "__metadata__ value for '\(member.key)' is \(describe(member.value)), not a string")
        }
        map[member.key] = text
      }
      return map
    default:
      throw failure("__metadata__ is \(describe(value)), not an object of strings")
    }
  }

  /// The entry named `name`, read from the value at the parser's position (which is consumed
  /// whatever the outcome). Throws only JSON errors; a rule the entry breaks is the failure
  /// returned.
  private static func parseEntry(
    name: String, _ parser: inout StrictJSONParser, path: String
  ) throws(StrictJSONParser.Failure) -> Result<Entry, CheckpointError> {
    func failure(_ reason: String) -> Result<Entry, CheckpointError> {
      .failure(CheckpointError(.malformed, file: path, offset: 8, tensor: name, reason: reason))
    }
    guard name.utf8.count <= maximumNameLength else {
      _ = try parser.parseValue()
      return .failure(
        CheckpointError(
          .limitExceeded, file: path, offset: 8,
          reason: "a tensor name is \(name.utf8.count) bytes long, over the \(maximumNameLength)-byte limit"))
    }
    guard parser.nextValueKind() == .object else {
      return failure("entry is \(describe(try parser.parseValue())), not an object")
    }
    var dtypeValue: DTypeField?
    var shapeValue: IntegerList?
    var offsetsValue: IntegerList?
    // Unknown fields are ignored, as the reference reader does.
    try parser.forEachMemberToken { parser, field, _ throws(StrictJSONParser.Failure) in
      if field.spells("dtype") {
        dtypeValue = try DTypeField(&parser)
      } else if field.spells("shape") {
        shapeValue = try IntegerList(&parser, keepingAll: true)
      } else if field.spells("data_offsets") {
        offsetsValue = try IntegerList(&parser, keepingAll: false)
      } else {
        _ = try parser.parseValue()
      }
    }
    guard let dtypeValue else { return failure("missing 'dtype'") }
    guard let shapeValue else { return failure("missing 'shape'") }
    guard let offsetsValue else { return failure("missing 'data_offsets'") }

    let dtype: DType
    switch dtypeValue {
    case .dtype(let known): dtype = known
    case .unknown(let dtypeName): return failure("unknown dtype '\(dtypeName)'")
    case .other(let value): return failure("dtype is \(describe(value)), not a string")
    }
    if let value = shapeValue.notArray {
      return failure("shape is \(describe(value)), not an array")
    }
    if let badShape = shapeValue.firstBad {
      return failure("shape[\(badShape.index)] is \(describe(badShape.value)), not a non-negative integer")
    }
    if let value = offsetsValue.notArray {
      return failure("data_offsets is \(describe(value)), not an array")
    }
    guard offsetsValue.count == 2 else {
      return failure("data_offsets has \(offsetsValue.count) elements, not 2")
    }
    if let badOffset = offsetsValue.firstBad {
      return failure("data_offsets[\(badOffset.index)] is \(describe(badOffset.value)), not a non-negative integer")
    }
    return .success(
      Entry(name: name, dtype: dtype, shape: shapeValue.values, begin: offsetsValue.first, end: offsetsValue.second))
  }

  /// A `dtype` value: a known spelling, an unknown string, or another value.
  private enum DTypeField {
    case dtype(DType)
    case unknown(String)
    case other(JSONValue)

    /// Reads the value at the parser's position.
    init(_ parser: inout StrictJSONParser) throws(StrictJSONParser.Failure) {
      guard parser.nextValueKind() == .string else {
        self = .other(try parser.parseValue())
        return
      }
      let token = try parser.parseStringToken()
      let known: DType?
      switch token {
      case .ascii(let bytes): known = DType(spelling: bytes)
      case .decoded(let text): known = DType(rawValue: text)
      }
      self = known.map { .dtype($0) } ?? .unknown(token.string)
    }
  }

  /// A `shape` or `data_offsets` value: an array read as non-negative integers, or the value
  /// it is instead.
  private struct IntegerList {
    /// The value when it is not an array.
    var notArray: JSONValue?
    /// How many elements the array has.
    var count = 0
    /// The leading elements that are non-negative integers fitting `Int` (only when kept).
    var values: [Int] = []
    /// The first two of them (0 where absent).
    var first = 0
    var second = 0
    /// The first element that is not one, if any.
    var firstBad: (index: Int, value: JSONValue)?

    /// Reads the value at the parser's position, keeping every good element in ``values``
    /// when `keepingAll`, else only ``first`` and ``second``.
    init(_ parser: inout StrictJSONParser, keepingAll: Bool) throws(StrictJSONParser.Failure) {
      guard parser.nextValueKind() == .array else {
        notArray = try parser.parseValue()
        return
      }
      try parser.forEachElement { parser, index throws(StrictJSONParser.Failure) in
        count += 1
        var element: Int? = parser.parseNonNegativeInteger()
        if element == nil {
          let value = try parser.parseValue()
          if case .int(let number) = value, number >= 0, let exact = Int(exactly: number) {
            element = exact
          } else if firstBad == nil {
            firstBad = (index, value)
          }
        }
        guard firstBad == nil, let element else { return }
        switch index {
        case 0: first = element
        case 1: second = element
        default: break
        }
        if keepingAll {
          if values.isEmpty { values.reserveCapacity(4) }
          values.append(element)
        }
      }
    }
  }

  private static func describe(_ value: JSONValue) -> String {
    JSONDescription.describe(value)
  }

  // MARK: - JSON errors

  private static func jsonFailure(
    _ error: StrictJSONParser.Failure, header: UnsafeRawBufferPointer, path: String
  ) -> CheckpointError {
    let offset = UInt64(8 + error.offset)
    if let key = error.duplicateKey, error.depth == 1 {
      let reason =
        key == "__metadata__"
        ? "duplicate '__metadata__' entry" : "duplicate tensor name '\(TerminalText.escaped(key))'"
      return CheckpointError(.malformed, file: path, offset: offset, reason: reason)
    }
    if error.reason.hasPrefix("trailing characters"), error.offset < header.count,
      header[error.offset...].allSatisfy({ $0 == 0 || isJSONWhitespace($0) })
    {
      return CheckpointError(
        .malformed, file: path, offset: offset,
        reason: "header is padded with NUL bytes; only JSON whitespace may pad a header")
    }
    return CheckpointError(.malformed, file: path, offset: offset, reason: "header is not valid JSON: \(error.reason)")
  }
}
