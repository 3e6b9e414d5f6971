import Platform

/// Watches the keys of a JSON object as a scanner meets them: while every key is ASCII and
/// each is greater in byte order than the one before, the keys are distinct and in ascending
/// `String` order (for ASCII, bytes order and compare as `String`s do), so a scanner can skip
/// its duplicate check or a later sort. Writers usually emit keys so.
struct AscendingASCIIKeys {
  /// Whether every key admitted so far kept the order.
  private(set) var holds = true
  private var previous: UnsafeRawBufferPointer?

  /// Notes the next key (its UTF-8 bytes, which must stay valid while this is in use) and
  /// returns whether the order still holds.
  mutating func admit(_ key: UnsafeRawBufferPointer, isASCII: Bool) -> Bool {
    guard holds else { return false }
    defer { previous = key }
    guard isASCII else {
      holds = false
      return false
    }
    if let previous, !Self.precedes(previous, key) { holds = false }
    return holds
  }

  /// Whether `lhs` comes strictly before `rhs` in byte order.
  private static func precedes(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    let common = min(lhs.count, rhs.count)
    if common > 0, let left = lhs.baseAddress, let right = rhs.baseAddress {
      let order = memcmp(left, right, common)
      if order != 0 { return order < 0 }
    }
    return lhs.count < rhs.count
  }
}
