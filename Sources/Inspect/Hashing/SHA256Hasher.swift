import CLibCrypto

/// Streaming SHA-256 through OpenSSL's libcrypto (hardware SHA extensions where the CPU has them).
package struct SHA256Hasher: ~Copyable {
  private let context: OpaquePointer

  /// Starts a new digest.
  package init() {
    // EVP_MD_CTX_new only fails on allocation failure, which Swift treats as fatal anyway.
    guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    EVP_DigestInit_ex(context, EVP_sha256(), nil)
    self.context = context
  }

  /// Adds bytes to the digest.
  package mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    EVP_DigestUpdate(context, base, bytes.count)
  }

  /// Finishes and returns the digest as 64 lowercase hex digits.
  package consuming func finalizeHex() -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    EVP_DigestFinal_ex(context, &digest, &length)
    return hexString(digest)
  }

  deinit {
    EVP_MD_CTX_free(context)
  }

  /// The SHA-256 of `bytes`, in hex.
  package static func hex(of bytes: UnsafeRawBufferPointer) -> String {
    var hasher = SHA256Hasher()
    hasher.update(bytes)
    return hasher.finalizeHex()
  }
}

/// Lowercase hex of `bytes`.
package func hexString(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 0x0F)])
  }
  return String(decoding: out, as: UTF8.self)
}
