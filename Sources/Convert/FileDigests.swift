import Inspect

// Stand-in for `CheckpointHasher.sha256(ofFile:)` (verify helper, Sources/Inspect/Hashing);
// the lead replaces the body with a call to it at merge.

/// SHA-256 of whole files.
enum FileDigests {
  /// The SHA-256 (hex) and size of the file at `path`, read through a memory mapping.
  static func sha256(ofFile path: String) throws(CheckpointError) -> (sha256: String, size: Int) {
    let mapped = try MappedFile(path: path)
    mapped.adviseSequential()
    var hasher = SHA256Hasher()
    var offset = 0
    let step = 16 << 20
    while offset < mapped.count {
      let stop = min(mapped.count, offset + step)
      hasher.update(UnsafeRawBufferPointer(rebasing: mapped.bytes[offset..<stop]))
      offset = stop
    }
    return (hasher.finalizeHex(), mapped.count)
  }
}
