/// Reads the tensor catalog of a PyTorch `torch.save` zip archive without executing anything.
///
/// The archive is read in three checked steps (pytorch `torch/serialization.py`, `_load`):
///
/// 1. **Container.** ``ZipArchive`` validates the zip (STORED entries only, consistent headers,
///    safe unique names, non-overlapping data). Then the `torch.save` layout: every entry under
///    one top-level folder (taken from the first entry, never assumed to be `archive/`), exactly
///    one `<prefix>/data.pkl`, no other `.pkl` and no TorchScript entries (`constants.pkl`,
///    `code/`), a `byteorder` record of `little` or `big` if present. CRC-32 is verified for
///    `data.pkl` and every entry up to 1 MiB; larger storage records are not read when
///    opening (header-only), so their CRCs are not checked here.
/// 2. **Pickle.** `PickleMachine` interprets `data.pkl` over an allowlist of opcodes and
///    globals; persistent ids must name existing `<prefix>/data/<key>` records whose length is
///    exactly `numel × element size`. Dtypes: every legacy typed storage except complex128 and
///    the quantized ones, plus any whole-byte dtype (float8 variants, uint16/32/64) through
///    `_rebuild_tensor_v3`. `bytes` values (`_codecs.encode`) are off by default.
/// 3. **Tensors.** The pickle's root must be a dict (or `OrderedDict`) with string keys. Its
///    tensor values become the tensors, named by their keys; other values (numbers, strings,
///    `None`) are ignored. If the root holds no tensors itself, one wrapper — the value under
///    `state_dict` or `model` — is unwrapped, as training scripts often save
///    `{"state_dict": …, "epoch": …}`. Tensors anywhere else (deeper nesting, lists) are
///    refused rather than silently dropped. Every view is bounds-checked against its storage;
///    C-contiguous little-endian views become `.contiguous` layouts at absolute file offsets,
///    all others (transposes, expanded stride-0 views, big-endian archives) `.strided`.
///
/// Legacy pre-1.6 files (stacked pickles), preview-era `PYTORCH1` files and tar archives are
/// recognised and reported as unsupported.
package enum TorchZipReader {
  /// Keys whose value is unwrapped when the root dict holds no tensors itself.
  static let wrapperKeys = ["state_dict", "model"]

  /// The first bytes of a legacy (pre-1.6) `torch.save` file: `PROTO 2`, `LONG1` 10-byte magic.
  static let legacyMagic: [UInt8] = [
    0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19,
  ]

  /// Reads every tensor's name, dtype, shape and location from `file`, in the order of the
  /// pickle's root dict.
  ///
  /// - Throws: ``CheckpointError``: `.unsupported` for legacy formats, TorchScript archives and
  ///   unsupported tensor kinds; `.refused` for anything the restricted reader will not do
  ///   (compressed entries, disallowed opcodes, globals and calls); `.limitExceeded` for caps;
  ///   `.malformed` for broken or inconsistent files. Messages name the zip entry or the
  ///   `data.pkl` offset, and the tensor when one is concerned.
  package static func readTensors(from file: MappedFile) throws(CheckpointError) -> [TensorInfo] {
    try checkMagic(file)
    let archive = try ZipArchive(file)
    let layout = try ArchiveLayout(archive)
    // Small entries were checked when the archive was opened; an oversized pickle is refused
    // by the interpreter's size limit before anything reads it.
    if layout.pickle.size > ZipArchive.Limits().checksumSizeLimit,
      layout.pickle.size <= PickleMachine.Limits().maxPickleBytes
    {
      try archive.verifyChecksum(of: layout.pickle)
    }
    let context = PickleMachine.Context(
      file: file.path, baseOffset: layout.pickle.dataOffset, storageRecords: layout.records)
    let root = try PickleMachine.run(archive.data(of: layout.pickle), context: context)
    let named = try namedTensors(in: root, file: file.path)
    return try named.map { (name, tensor) throws(CheckpointError) in
      try tensorInfo(name: name, tensor: tensor, bigEndian: layout.bigEndian, file: file.path)
    }
  }

  // MARK: - Format detection

  private static func checkMagic(_ file: MappedFile) throws(CheckpointError) {
    let bytes = file.bytes
    func starts(with prefix: [UInt8]) -> Bool {
      bytes.count >= prefix.count && zip(bytes, prefix).allSatisfy { $0 == $1 }
    }
    if starts(with: [0x50, 0x4B, 0x03, 0x04]) { return }
    if starts(with: legacyMagic) {
      throw CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6")
    }
    if starts(with: Array("PYTORCH1".utf8)) {
      throw CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "preview-era PyTorch format (PYTORCH1) is not supported; re-save with torch>=1.6")
    }
    if bytes.count >= 262, zip(bytes[257..<262], Array("ustar".utf8)).allSatisfy({ $0 == $1 }) {
      throw CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "tar-based PyTorch format (torch<=0.1) is not supported; re-save with torch>=1.6")
    }
    if starts(with: [0x80]) {
      throw CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "a bare pickle stream (legacy pre-1.6 PyTorch format or plain pickle) is not "
          + "supported; re-save with torch>=1.6")
    }
    throw CheckpointError(
      .malformed, file: file.path, offset: 0,
      reason: "not a PyTorch zip archive (no zip local header signature at offset 0)")
  }

  // MARK: - Archive layout

  /// The `torch.save` records found in a zip archive.
  private struct ArchiveLayout {
    var prefix: String
    var pickle: ZipArchive.Entry
    var records: [String: PickleStorageRecord]
    var bigEndian: Bool

    init(_ archive: ZipArchive) throws(CheckpointError) {
      let path = archive.file.path
      guard let first = archive.entries.first else {
        throw CheckpointError(.malformed, file: path, reason: "zip archive has no entries")
      }
      guard let slash = first.name.firstIndex(of: "/") else {
        throw CheckpointError(
          .malformed, file: path, offset: UInt64(first.localHeaderOffset),
          reason: "zip entry '\(first.name)' is not inside a top-level folder (torch.save puts "
            + "every record under '<name>/')")
      }
      let prefix = String(first.name[..<slash])
      let folder = prefix + "/"
      var pickle: ZipArchive.Entry?
      var records: [String: PickleStorageRecord] = [:]
      var byteorder: ZipArchive.Entry?
      for entry in archive.entries {
        guard entry.name.hasPrefix(folder) else {
          throw CheckpointError(
            .malformed, file: path, offset: UInt64(entry.localHeaderOffset),
            reason: "zip entry '\(entry.name)' is outside the archive folder '\(folder)'")
        }
        let relative = entry.name.dropFirst(folder.count)
        if relative == "constants.pkl" || relative.hasPrefix("code/") {
          throw CheckpointError(
            .unsupported, file: path, offset: UInt64(entry.localHeaderOffset),
            reason: "TorchScript archive (torch.jit.save; has '\(entry.name)') is not supported; only "
              + "torch.save files are read")
        }
        if relative == "data.pkl" {
          pickle = entry
        } else if relative.hasSuffix(".pkl") {
          throw CheckpointError(
            .refused, file: path, offset: UInt64(entry.localHeaderOffset),
            reason: "unexpected pickle '\(entry.name)' (torch.save writes only data.pkl; extra "
              + "pickles can hide payloads)")
        } else if relative == "byteorder" {
          byteorder = entry
        } else if relative.hasPrefix("data/") {
          let key = String(relative.dropFirst(5))
          if !key.contains("/") {
            records[key] = PickleStorageRecord(
              entryName: entry.name, offset: entry.dataOffset, length: entry.size)
          }
        }
        // Other entries (version, .format_version, .storage_alignment, .data/…) are ignored.
      }
      guard let pickle else {
        throw CheckpointError(
          .malformed, file: path, reason: "zip archive has no '\(folder)data.pkl' record")
      }
      var bigEndian = false
      if let byteorder {
        switch Array(archive.data(of: byteorder)) {
        case Array("little".utf8): bigEndian = false
        case Array("big".utf8): bigEndian = true
        default:
          throw CheckpointError(
            .malformed, file: path, offset: UInt64(byteorder.dataOffset),
            reason: "'\(byteorder.name)' must be 'little' or 'big'")
        }
      }
      self.prefix = prefix
      self.pickle = pickle
      self.records = records
      self.bigEndian = bigEndian
    }
  }

  // MARK: - Naming

  /// The tensors of the root dict (or of its one wrapper), with their names, in order.
  static func namedTensors(
    in root: PickleValue, file: String
  ) throws(CheckpointError) -> [(String, PickleTensor)] {
    guard case .dict(let dict) = root else {
      throw CheckpointError(
        .unsupported, file: file,
        reason: "data.pkl holds \(root.typeWithArticle), not a dict of tensors")
    }
    let (direct, nested) = try partition(dict, file: file, path: "")
    guard let firstNested = nested.first else { return direct }
    // Tensors are never silently dropped: besides the root's own tensors, the only place they
    // may be is a single wrapper dict, and then nowhere else.
    guard direct.isEmpty, nested.count == 1, wrapperKeys.contains(firstNested),
      let value = dict[firstNested], case .dict(let inner) = value
    else {
      throw nestedTensors(under: nested, file: file)
    }
    let (wrapped, deeper) = try partition(inner, file: file, path: firstNested + ".")
    if !deeper.isEmpty { throw nestedTensors(under: deeper.map { firstNested + "." + $0 }, file: file) }
    return wrapped
  }

  /// The tensor values of `dict` by key, and the keys of values that hold tensors deeper down.
  private static func partition(
    _ dict: PickleDict, file: String, path: String
  ) throws(CheckpointError) -> (tensors: [(String, PickleTensor)], nested: [String]) {
    var tensors: [(String, PickleTensor)] = []
    var nested: [String] = []
    for entry in dict.entries {
      guard case .string(let name) = entry.key else {
        throw CheckpointError(
          .unsupported, file: file,
          reason: "state dict has a non-string key \(path)\(PickleMachine.describe(entry.key))")
      }
      if case .tensor(let tensor) = entry.value {
        tensors.append((name, tensor))
      } else if entry.value.holdsTensor {
        nested.append(name)
      }
    }
    return (tensors, nested)
  }

  private static func nestedTensors(under keys: [String], file: String) -> CheckpointError {
    let shown = keys.prefix(5).map { "'\(ZipArchive.printable($0))'" }.joined(separator: ", ")
      + (keys.count > 5 ? ", …" : "")
    return CheckpointError(
      .unsupported, file: file,
      reason: "tensors nested under \(shown) are not supported; only a flat "
        + "state dict (optionally wrapped in 'state_dict' or 'model') is read")
  }

  // MARK: - Views

  /// Checks `tensor`'s view against its storage and describes where its bytes are.
  static func tensorInfo(
    name: String, tensor: PickleTensor, bigEndian: Bool, file: String
  ) throws(CheckpointError) -> TensorInfo {
    let storage = tensor.storage
    func invalid(_ reason: String) -> CheckpointError {
      CheckpointError(
        .malformed, file: file, offset: UInt64(storage.recordOffset), tensor: name,
        reason: reason + " (data.pkl offset \(PickleMachine.hex(tensor.pickleOffset)))")
    }
    guard let elementSize = tensor.dtype.bytesPerElement,
      let byteCount = checkedByteCount(shape: tensor.shape, dtype: tensor.dtype)
    else {
      throw invalid("tensor of shape \(tensor.shape) and dtype \(tensor.dtype.rawValue) has no valid size")
    }
    let storageElements = storage.recordLength / elementSize
    let view = "view (offset \(tensor.storageOffset), size \(tensor.shape), stride \(tensor.strides))"
    let isEmpty = tensor.shape.contains(0)
    if isEmpty {
      guard tensor.storageOffset <= storageElements else {
        throw invalid("\(view) starts past the end of storage '\(storage.key)' (\(storageElements) elements)")
      }
    } else {
      var furthest = tensor.storageOffset
      for (size, stride) in zip(tensor.shape, tensor.strides) {
        let (span, spanOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
        let (sum, sumOverflow) = furthest.addingReportingOverflow(span)
        guard !spanOverflow, !sumOverflow else { throw invalid("\(view) overflows 64 bits") }
        furthest = sum
      }
      guard furthest < storageElements else {
        throw invalid(
          "\(view) reaches element \(furthest) of storage '\(storage.key)', which has "
            + "\(storageElements) elements of \(tensor.dtype.rawValue)")
      }
    }
    // Offsets below are in range: storageOffset ≤ storageElements and the record lies in the file.
    let start = storage.recordOffset + tensor.storageOffset * elementSize
    let swapped = bigEndian && elementSize > 1
    let layout: TensorLayout
    if isEmpty {
      layout = .contiguous(offset: start, length: 0)
    } else if isContiguous(shape: tensor.shape, strides: tensor.strides), !swapped {
      layout = .contiguous(offset: start, length: byteCount)
    } else {
      layout = .strided(
        storageOffset: storage.recordOffset, storageLength: storage.recordLength,
        elementOffset: tensor.storageOffset, strides: tensor.strides, bigEndian: swapped)
    }
    return TensorInfo(name: name, dtype: tensor.dtype, shape: tensor.shape, file: file, layout: layout)
  }

  /// Whether a non-empty view with these sizes and strides is C-contiguous (dimensions of size
  /// 1 may have any stride).
  static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
    var expected = 1
    for (size, stride) in zip(shape, strides).reversed() where size != 1 {
      guard stride == expected else { return false }
      expected *= size
    }
    return true
  }
}
