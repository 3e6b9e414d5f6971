/// A prefix or suffix that detection looks for in tensor names, tested on UTF-8 bytes with
/// exactly the results of `String.hasPrefix` / `String.hasSuffix`.
///
/// The detector scans every name of a checkpoint several times, and the Unicode-aware `String`
/// tests dominated detection on 100,000 names. For a pattern made only of `a`–`z`, `0`–`9`,
/// `.`, `_` and `-` (none of which has a canonical equivalent other than itself), the byte
/// comparison decides alone whenever the byte next to the matched part is ASCII too, because
/// a Character boundary always falls between two such characters. A non-ASCII neighbour (a
/// combining mark could join the pattern's edge character), a pattern with other characters,
/// or a name without contiguous UTF-8 storage falls back to the `String` test.
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
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
  }

  /// `name.hasPrefix(text)`.
  func isPrefix(of name: String) -> Bool {
    guard byteWise else { return name.hasPrefix(text) }
    let decided = name.utf8.withContiguousStorageIfAvailable { name -> Bool? in
      guard name.count >= bytes.count, matches(name, at: 0) else { return false }
      return name.count == bytes.count || bytes.isEmpty || name[bytes.count] < 0x80 ? true : nil
    }
    guard let decided, let decided else { return name.hasPrefix(text) }
    return decided
  }

  /// `name.hasSuffix(text)`.
  func isSuffix(of name: String) -> Bool {
    guard byteWise else { return name.hasSuffix(text) }
    let decided = name.utf8.withContiguousStorageIfAvailable { name -> Bool? in
      let start = name.count - bytes.count
      guard start >= 0, matches(name, at: start) else { return false }
      return start == 0 || bytes.isEmpty || name[start - 1] < 0x80 ? true : nil
    }
    guard let decided, let decided else { return name.hasSuffix(text) }
    return decided
  }

  /// Whether `name[start...]` begins with the pattern's bytes (`start + count` is in range).
  private func matches(_ name: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
    for offset in 0..<bytes.count where name[start + offset] != bytes[offset] { return false }
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
        negative ? product.subtractingReportingOverflow(Int(digit)) : product.addingReportingOverflow(Int(digit))
      guard !productOverflow, !sumOverflow else { return nil }
      value = sum
      position += 1
    }
    return value
  }
}
