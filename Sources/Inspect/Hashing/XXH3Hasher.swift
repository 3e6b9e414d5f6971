import CXXHash

/// Streaming XXH3-128 through libxxhash (seed 0), the digest `xxhsum -H2` prints.
package struct XXH3Hasher: ~Copyable {
  private let state: OpaquePointer

  /// Starts a new digest.
  package init() {
    // Allocated here rather than by XXH3_createState, with the 64-byte alignment the state's
    // accumulators need, zeroed (what XXH3_INITSTATE asks of a caller-allocated state), reset.
    let size = speculators_xxh3_state_size()
    let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    state = OpaquePointer(raw)
    XXH3_128bits_reset(state)
  }

  /// Adds bytes to the digest.
  package mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    XXH3_128bits_update(state, base, bytes.count)
  }

  /// Finishes and returns the canonical (big-endian) 128-bit digest as 32 hex digits.
  package consuming func finalizeHex() -> String {
    let digest = XXH3_128bits_digest(state)
    return Self.canonicalHex(digest)
  }

  deinit {
    UnsafeMutableRawPointer(state).deallocate()
  }

  /// The XXH3-128 of `bytes`, in canonical hex.
  package static func hex(of bytes: UnsafeRawBufferPointer) -> String {
    let digest = XXH3_128bits(bytes.baseAddress, bytes.count)
    return canonicalHex(digest)
  }

  private static func canonicalHex(_ digest: XXH128_hash_t) -> String {
    var canonical = XXH128_canonical_t()
    XXH128_canonicalFromHash(&canonical, digest)
    let bytes = withUnsafeBytes(of: canonical.digest) { Array($0) }
    return hexString(bytes)
  }
}
