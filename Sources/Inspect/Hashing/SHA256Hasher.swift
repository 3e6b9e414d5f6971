import CLibCrypto

/// Streaming SHA-256 through OpenSSL's libcrypto (hardware SHA extensions where the CPU has them).
package struct SHA256Hasher: ~Copyable {
  /// libcrypto could not make or initialise a digest context (it is out of memory).
  package struct Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
    package var description: String { "cannot start a SHA-256 digest: libcrypto could not allocate its context" }
  }

  private let context: OpaquePointer

  /// Starts a new digest.
  package init() throws(Unavailable) {
    guard let context = EVP_MD_CTX_new() else { throw Unavailable() }
    guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
      EVP_MD_CTX_free(context)
      throw Unavailable()
    }
    self.context = context
  }

  /// Starts a new digest of `file`: a failure is a ``CheckpointError`` (`io`) naming it.
  package init(for file: String) throws(CheckpointError) {
    do {
      try self.init()
    } catch {
      throw CheckpointError(.io, file: file, reason: error.description)
    }
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
  package static func hex(of bytes: UnsafeRawBufferPointer) throws(Unavailable) -> String {
    var hasher = try SHA256Hasher()
    hasher.update(bytes)
    return hasher.finalizeHex()
  }

  /// The SHA-256 of `bytes`, in hex: a failure is a ``CheckpointError`` (`io`) naming `file`.
  package static func hex(of bytes: UnsafeRawBufferPointer, for file: String) throws(CheckpointError) -> String {
    var hasher = try SHA256Hasher(for: file)
    hasher.update(bytes)
    return hasher.finalizeHex()
  }

  /// The SHA-256 of `bytes`, in hex: a failure is a ``CheckpointError`` (`io`) naming `file`.
  package static func hex(of bytes: [UInt8], for file: String) throws(CheckpointError) -> String {
    var hasher = try SHA256Hasher(for: file)
    bytes.withUnsafeBytes { hasher.update($0) }
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
