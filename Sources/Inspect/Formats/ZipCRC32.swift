/// The CRC-32 used by zip archives (ISO-HDLC: reflected polynomial `0xEDB88320`, initial value
/// and final XOR `0xFFFFFFFF`), computed with slicing-by-8 tables.
///
/// No zlib is linked, so this is a small self-contained implementation. `ZipCRC32.checksum` of
/// `"123456789"` is `0xCBF43926`, the standard check value.
package struct ZipCRC32: Sendable {
  /// Eight 256-entry tables, one after the other; table 0 is the classic byte-at-a-time table.
  private static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 {
        crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
      }
      tables[byte] = crc
    }
    for slice in 1..<8 {
      for byte in 0..<256 {
        let previous = tables[(slice - 1) * 256 + byte]
        tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
      }
    }
    return tables
  }()

  private var state: UInt32 = 0xFFFF_FFFF

  /// Starts a new checksum.
  package init() {}

  /// Adds bytes to the checksum.
  package mutating func update(_ bytes: UnsafeRawBufferPointer) {
    var crc = state
    Self.tables.withUnsafeBufferPointer { table in
      var index = 0
      let count = bytes.count
      while count - index >= 8 {
        let low = crc ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
          | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
        let first = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
          ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
        let second = table[3 * 256 + Int(bytes[index + 4])] ^ table[2 * 256 + Int(bytes[index + 5])]
          ^ table[256 + Int(bytes[index + 6])] ^ table[Int(bytes[index + 7])]
        crc = first ^ second
        index += 8
      }
      while index < count {
        crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
        index += 1
      }
    }
    state = crc
  }

  /// The checksum of everything added so far.
  package var value: UInt32 { state ^ 0xFFFF_FFFF }

  /// The checksum of `bytes` in one call.
  package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc = ZipCRC32()
    crc.update(bytes)
    return crc.value
  }
}
