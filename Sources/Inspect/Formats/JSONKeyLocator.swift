/// Finds where a top-level key sits in raw JSON bytes, to give byte offsets in error messages
/// about documents that have already been parsed into ``JSONValue`` (which keeps no positions).
enum JSONKeyLocator {
  /// The offset of the opening quote of the first key of the root object of `bytes` that
  /// decodes to `key`, or `nil` when there is none. Only used on error paths.
  static func offsetOfRootKey(_ key: String, in bytes: UnsafeRawBufferPointer) -> Int? {
    var depth = 0
    var expectingKey = false
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case 0x22:
        let end = endOfString(startingAt: index, in: bytes)
        guard end < bytes.count else { return nil }
        if depth == 1, expectingKey {
          let literal = UnsafeRawBufferPointer(rebasing: bytes[index...end])
          if (try? StrictJSONParser.parse(literal))?.stringValue == key { return index }
          expectingKey = false
        }
        index = end + 1
        continue
      case 0x7B:
        depth += 1
        if depth == 1 { expectingKey = true }
      case 0x5B:
        depth += 1
      case 0x7D, 0x5D:
        depth -= 1
      case 0x2C:
        if depth == 1 { expectingKey = true }
      default:
        break
      }
      index += 1
    }
    return nil
  }

  /// The index of the closing quote of the string whose opening quote is at `start`
  /// (`bytes.count` when it is unterminated).
  static func endOfString(startingAt start: Int, in bytes: UnsafeRawBufferPointer) -> Int {
    var index = start + 1
    var escaped = false
    while index < bytes.count {
      let byte = bytes[index]
      if escaped {
        escaped = false
      } else if byte == 0x5C {
        escaped = true
      } else if byte == 0x22 {
        return index
      }
      index += 1
    }
    return index
  }

  /// How many arrays and objects enclose byte `offset` of `bytes`, skipping string contents.
  static func nestingDepth(at offset: Int, in bytes: UnsafeRawBufferPointer) -> Int {
    var depth = 0
    var index = 0
    let limit = min(offset, bytes.count)
    while index < limit {
      switch bytes[index] {
      case 0x22:
        index = endOfString(startingAt: index, in: bytes) + 1
        continue
      case 0x7B, 0x5B: depth += 1
      case 0x7D, 0x5D: depth -= 1
      default: break
      }
      index += 1
    }
    return depth
  }

  /// The decoded JSON string whose opening quote is at `offset`, if it parses.
  static func string(at offset: Int, in bytes: UnsafeRawBufferPointer) -> String? {
    guard offset < bytes.count, bytes[offset] == 0x22 else { return nil }
    let end = endOfString(startingAt: offset, in: bytes)
    guard end < bytes.count else { return nil }
    return (try? StrictJSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...end])))?.stringValue
  }
}
