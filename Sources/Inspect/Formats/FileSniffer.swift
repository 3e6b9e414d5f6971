/// Recognises checkpoint containers by their first bytes, whatever the file is called.
///
/// A `.bin` may be a safetensors file and a `.safetensors` may be a PyTorch zip: readers pick
/// the parser from the content, and use the extension only to choose which error to report
/// when the content is recognised as nothing.
package enum FileSniffer {
  /// What the first bytes of a file say it is.
  package enum Content: String, Sendable, Hashable {
    /// A plausible safetensors file: an 8-byte little-endian header length that fits the file
    /// and the 100 MB cap, followed by `{` or JSON whitespace.
    case safetensors
    /// A zip archive (`PK\x03\x04`), as written by `torch.save` since PyTorch 1.6.
    case torchZip = "torch-zip"
    /// The legacy (pre-1.6) `torch.save` stream: a pickle starting with torch's magic number.
    case legacyTorchPickle = "legacy-torch-pickle"
    /// Some other pickle stream (protocol 2 or later), not a torch archive.
    case pickle
    /// None of the above.
    case other
  }

  /// The legacy `torch.save` prefix: `PROTO 2`, `LONG1` of 10 bytes holding the magic number
  /// `0x1950A86A20F9469CFC6C` (`MAGIC_NUMBER` in pytorch `torch/serialization.py`).
  package static let legacyTorchMagic: [UInt8] = [
    0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19,
  ]

  /// The zip local-file-header signature.
  package static let zipMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

  /// Classifies `bytes`, the start (or all) of a file of `fileSize` bytes.
  ///
  /// Only the first 16 bytes are looked at, so callers may pass a short prefix together with
  /// the real file size.
  package static func sniff(_ bytes: UnsafeRawBufferPointer, fileSize: Int) -> Content {
    if bytes.starts(with: zipMagic) { return .torchZip }
    if bytes.starts(with: legacyTorchMagic) { return .legacyTorchPickle }
    if bytes.count >= 9 {
      var length: UInt64 = 0
      for index in (0..<8).reversed() { length = length << 8 | UInt64(bytes[index]) }
      let first = bytes[8]
      let opensJSON = first == UInt8(ascii: "{") || first == 0x20 || first == 0x09 || first == 0x0A || first == 0x0D
      if opensJSON, length >= 2, length <= UInt64(SafetensorsReader.maximumHeaderLength),
        fileSize >= 8, length <= UInt64(fileSize - 8)
      {
        return .safetensors
      }
    }
    if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return .pickle }
    return .other
  }

  /// Classifies a mapped file.
  package static func sniff(_ file: MappedFile) -> Content {
    sniff(file.bytes, fileSize: file.count)
  }

  /// The error for a file whose content cannot be read as weights: the legacy PyTorch format,
  /// a bare pickle, or something unrecognised. `nil` for the readable kinds.
  package static func unreadableError(_ content: Content, file: MappedFile) -> CheckpointError? {
    switch content {
    case .safetensors, .torchZip:
      return nil
    case .legacyTorchPickle:
      return CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6")
    case .pickle:
      return CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "a bare pickle stream, not a torch.save zip archive or safetensors file, is not supported")
    case .other:
      // Older torch formats get the same specific messages as TorchZipReader gives them.
      if file.bytes.starts(with: Array("PYTORCH1".utf8)) {
        return CheckpointError(
          .unsupported, file: file.path, offset: 0,
          reason: "preview-era PyTorch format (PYTORCH1) is not supported; re-save with torch>=1.6")
      }
      if file.count >= 262, file.bytes[257..<262].elementsEqual("ustar".utf8) {
        return CheckpointError(
          .unsupported, file: file.path, offset: 0,
          reason: "tar-based PyTorch format (torch<=0.1) is not supported; re-save with torch>=1.6")
      }
      if let json = jsonFileReason(file) { return CheckpointError(.unsupported, file: file.path, reason: json) }
      let prefix = Array(file.bytes.prefix(8))
      let shown = prefix.isEmpty ? "the file is empty" : "it starts with " + hexString(prefix)
      return CheckpointError(
        .unsupported, file: file.path, offset: 0,
        reason: "not a safetensors file or PyTorch zip archive (\(shown))")
    }
  }

  /// For a JSON document given where weights are expected (a `config.json`, most often): what
  /// it is and what to pass instead, rather than a dump of its first bytes.
  static func jsonFileReason(_ file: MappedFile) -> String? {
    guard let first = file.bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{")
    else { return nil }
    let slash = file.path.lastIndex(of: "/")
    let name = slash.map { String(file.path[file.path.index(after: $0)...]) } ?? file.path
    let directory = slash.map { String(file.path[..<$0]) } ?? "."
    let what = name == "config.json" ? "a model config (config.json)" : "a JSON file"
    return "this is \(what), not weights; pass the checkpoint directory ('\(directory.isEmpty ? "/" : directory)') "
      + "to read its config and weights together"
  }
}
