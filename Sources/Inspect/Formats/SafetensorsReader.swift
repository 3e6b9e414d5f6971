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
  package static func readHeader(bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> Header {
    try readHeader(bytes: bytes, path: path, allowFastPath: true)
  }

  /// `allowFastPath: false` forces the general JSON path (tests compare the two).
  static func readHeader(
    bytes: UnsafeRawBufferPointer, path: String, allowFastPath: Bool
  ) throws(CheckpointError) -> Header {
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
    // 5. Strict JSON into typed entries: the fast scanner for the usual layout, else the
    // general parser, which is also what reports every error.
    var entries: [Entry]
    let metadata: [String: String]?
    if allowFastPath,
      let scanned = SafetensorsHeaderScanner.scan(
        headerBytes, maximumTensorCount: maximumTensorCount, maximumNameLength: maximumNameLength)
    {
      entries = scanned.entries
      metadata = scanned.metadata
    } else {
      (entries, metadata) = try parseEntries(headerBytes, path: path)
    }

    // 6. Offsets: sorted, contiguous from 0, each span the size its shape and dtype need.
    entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
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

  private typealias Entry = SafetensorsHeaderEntry

  /// The general path: strict JSON into a tree, then typed checks with precise messages.
  private static func parseEntries(
    _ headerBytes: UnsafeRawBufferPointer, path: String
  ) throws(CheckpointError) -> ([Entry], [String: String]?) {
    let failure = FailureFactory(path: path)
    let root: JSONValue
    do throws(StrictJSONParser.Failure) {
      root = try StrictJSONParser.parse(headerBytes)
    } catch {
      throw jsonFailure(error, header: headerBytes, path: path)
    }
    guard case .object(let members) = root else {
      let start = headerBytes.firstIndex { !Self.isJSONWhitespace($0) } ?? 0
      throw failure(8 + start, "header is \(describe(root)), not an object")
    }
    var metadata: [String: String]?
    var entries: [Entry] = []
    entries.reserveCapacity(members.count)
    for member in members {
      if member.key == "__metadata__" {
        do throws(CheckpointError) {
          metadata = try parseMetadata(member.value, path: path)
        } catch {
          throw located(error, key: member.key, header: headerBytes)
        }
        continue
      }
      guard entries.count < maximumTensorCount else {
        throw failure(8, kind: .limitExceeded, "header declares more than \(maximumTensorCount) tensors")
      }
      do throws(CheckpointError) {
        entries.append(try parseEntry(name: member.key, value: member.value, path: path))
      } catch {
        throw located(error, key: member.key, header: headerBytes)
      }
    }
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


  /// `error` with its offset moved to where `key` sits in the header (absolute).
  private static func located(
    _ error: CheckpointError, key: String, header: UnsafeRawBufferPointer
  ) -> CheckpointError {
    var moved = error
    if let offset = JSONKeyLocator.offsetOfRootKey(key, in: header) { moved.offset = UInt64(8 + offset) }
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

  private static func parseEntry(name: String, value: JSONValue, path: String) throws(CheckpointError) -> Entry {
    func failure(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, file: path, offset: 8, tensor: name, reason: reason)
    }
    guard name.utf8.count <= maximumNameLength else {
      throw CheckpointError(
        .limitExceeded, file: path, offset: 8,
        reason: "a tensor name is \(name.utf8.count) bytes long, over the \(maximumNameLength)-byte limit")
    }
    guard case .object(let fields) = value else {
      throw failure("entry is \(describe(value)), not an object")
    }
    var dtypeValue: JSONValue?
    var shapeValue: JSONValue?
    var offsetsValue: JSONValue?
    // Unknown fields are ignored, as the reference reader does.
    for field in fields {
      switch field.key {
      case "dtype": dtypeValue = field.value
      case "shape": shapeValue = field.value
      case "data_offsets": offsetsValue = field.value
      default: break
      }
    }
    guard let dtypeValue else { throw failure("missing 'dtype'") }
    guard let shapeValue else { throw failure("missing 'shape'") }
    guard let offsetsValue else { throw failure("missing 'data_offsets'") }

    guard case .string(let dtypeName) = dtypeValue else {
      throw failure("dtype is \(describe(dtypeValue)), not a string")
    }
    guard let dtype = DType(rawValue: dtypeName) else {
      throw failure("unknown dtype '\(dtypeName)'")
    }
    guard case .array(let shapeElements) = shapeValue else {
      throw failure("shape is \(describe(shapeValue)), not an array")
    }
    var shape: [Int] = []
    shape.reserveCapacity(shapeElements.count)
    for (index, element) in shapeElements.enumerated() {
      guard case .int(let dimension) = element, dimension >= 0, let exact = Int(exactly: dimension) else {
        throw failure("shape[\(index)] is \(describe(element)), not a non-negative integer")
      }
      shape.append(exact)
    }
    guard case .array(let offsetElements) = offsetsValue else {
      throw failure("data_offsets is \(describe(offsetsValue)), not an array")
    }
    guard offsetElements.count == 2 else {
      throw failure("data_offsets has \(offsetElements.count) elements, not 2")
    }
    var offsets: [Int] = []
    for (index, element) in offsetElements.enumerated() {
      guard case .int(let offset) = element, offset >= 0, let exact = Int(exactly: offset) else {
        throw failure("data_offsets[\(index)] is \(describe(element)), not a non-negative integer")
      }
      offsets.append(exact)
    }
    return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
  }

  private static func describe(_ value: JSONValue) -> String {
    JSONDescription.describe(value)
  }

  // MARK: - JSON errors

  private static func jsonFailure(
    _ error: StrictJSONParser.Failure, header: UnsafeRawBufferPointer, path: String
  ) -> CheckpointError {
    let offset = UInt64(8 + error.offset)
    if error.reason.hasPrefix("duplicate key"),
      JSONKeyLocator.nestingDepth(at: error.offset, in: header) == 1,
      let key = JSONKeyLocator.string(at: error.offset, in: header)
    {
      let reason = key == "__metadata__" ? "duplicate '__metadata__' entry" : "duplicate tensor name '\(key)'"
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
