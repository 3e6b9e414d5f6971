/// A name, prefix or suffix that detection looks for in tensor names, tested on UTF-8 bytes
/// with exactly the results of `String`'s `==`, `hasPrefix` and `hasSuffix`.
///
/// The detector scans every name of a checkpoint several times, and the Unicode-aware `String`
/// tests dominated detection on 100,000 names. For a pattern made only of `a`–`z`, `0`–`9`,
/// `.`, `_` and `-` (none of which has a canonical equivalent other than itself), the byte
/// comparison decides alone whenever the byte next to the matched part is ASCII too, because
/// a Character boundary always falls between two such characters. A non-ASCII neighbour (a
/// combining mark could join the pattern's edge character) or a pattern with other characters
/// falls back to the `String` test.
struct TensorNamePattern {
  /// The pattern as text.
  let text: String
  private let bytes: [UInt8]
  /// Whether the byte test can decide (see the type's description).
  private let byteWise: Bool

  /// A pattern for `text`.
  init(_ text: String) {
    self.text = text
    bytes = Array(text.utf8)
    byteWise = bytes.allSatisfy { byte in
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
  }

  /// `name == text`, for the UTF-8 bytes of `name`. (No other spelling of a byte-wise
  /// pattern is canonically equivalent to it, so equal bytes decide.)
  func isEqual(to name: UnsafeBufferPointer<UInt8>) -> Bool {
    guard byteWise else { return String(decoding: name, as: UTF8.self) == text }
    return name.count == bytes.count && matches(name, at: 0)
  }

  /// `name.hasPrefix(text)`, for the UTF-8 bytes of `name`.
  func isPrefix(of name: UnsafeBufferPointer<UInt8>) -> Bool {
    guard byteWise else { return String(decoding: name, as: UTF8.self).hasPrefix(text) }
    guard name.count >= bytes.count, matches(name, at: 0) else { return false }
    if name.count == bytes.count || bytes.isEmpty || name[bytes.count] < 0x80 { return true }
    return String(decoding: name, as: UTF8.self).hasPrefix(text)
  }

  /// `name.hasSuffix(text)`, for the UTF-8 bytes of `name`.
  func isSuffix(of name: UnsafeBufferPointer<UInt8>) -> Bool {
    guard byteWise else { return String(decoding: name, as: UTF8.self).hasSuffix(text) }
    let start = name.count - bytes.count
    guard start >= 0, matches(name, at: start) else { return false }
    if start == 0 || bytes.isEmpty || name[start - 1] < 0x80 { return true }
    return String(decoding: name, as: UTF8.self).hasSuffix(text)
  }

  /// Whether `name[start...]` begins with the pattern's bytes (`start + count` is in range).
  private func matches(_ name: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
    for offset in 0..<bytes.count where name[start + offset] != bytes[offset] { return false }
    return true
  }

  /// Whether `name` ends with the bytes of `suffix`, without regard to Characters (a cheap
  /// first test before a `String` one).
  static func hasBytes(_ name: UnsafeBufferPointer<UInt8>, endingWith suffix: [UInt8]) -> Bool {
    let start = name.count - suffix.count
    guard start >= 0 else { return false }
    for offset in 0..<suffix.count where name[start + offset] != suffix[offset] { return false }
    return true
  }

  /// The value of a decimal path segment exactly as `Int(String(segment))` reads it, or `nil`
  /// (an optional sign, then one or more ASCII digits, within `Int`'s range).
  static func integer(_ segment: UnsafeBufferPointer<UInt8>) -> Int? {
    var position = 0
    var negative = false
    if let first = segment.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
      negative = first == UInt8(ascii: "-")
      position = 1
    }
    guard position < segment.count else { return nil }
    var value = 0
    while position < segment.count {
      let digit = segment[position] &- UInt8(ascii: "0")
      guard digit < 10 else { return nil }
      let (product, productOverflow) = value.multipliedReportingOverflow(by: 10)
      let (sum, sumOverflow) =
        negative
        ? product.subtractingReportingOverflow(Int(digit)) : product.addingReportingOverflow(Int(digit))
      guard !productOverflow, !sumOverflow else { return nil }
      value = sum
      position += 1
    }
    return value
  }
}
