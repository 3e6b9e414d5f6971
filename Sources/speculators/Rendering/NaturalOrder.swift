/// The order people expect of names with numbers in them: digit runs compare by value, so
/// `layers.2` comes before `layers.10`. Used by every human listing of tensors and files.
enum NaturalOrder {
  /// Whether `a` sorts before `b`: runs of ASCII digits compare as numbers (then by length, so
  /// `01` follows `1`), everything else byte by byte; a tie falls back to the bytes.
  static func precedes(_ a: String, _ b: String) -> Bool {
    Array(a.utf8).withUnsafeBufferPointer { x in
      Array(b.utf8).withUnsafeBufferPointer { y in precedes(x, y) }
    }
  }

  /// `values` sorted by `key` in natural order (stable for equal keys). Each key's bytes are
  /// taken once, so sorting 100,000 tensor names stays quick.
  static func sorted<T>(_ values: [T], by key: (T) -> String) -> [T] {
    let keys = values.map { Array(key($0).utf8) }
    let order = keys.indices.sorted { left, right in
      keys[left].withUnsafeBufferPointer { x in
        keys[right].withUnsafeBufferPointer { y in
          if x.elementsEqual(y) { return left < right }
          return precedes(x, y)
        }
      }
    }
    return order.map { values[$0] }
  }

  private static func precedes(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    var j = 0
    while i < x.count && j < y.count {
      if isDigit(x[i]) && isDigit(y[j]) {
        let startX = i
        let startY = j
        while i < x.count && isDigit(x[i]) { i += 1 }
        while j < y.count && isDigit(y[j]) { j += 1 }
        let digitsX = trimmedZeros(x[startX..<i])
        let digitsY = trimmedZeros(y[startY..<j])
        if digitsX.count != digitsY.count { return digitsX.count < digitsY.count }
        if !digitsX.elementsEqual(digitsY) { return digitsX.lexicographicallyPrecedes(digitsY) }
        if i - startX != j - startY { return i - startX < j - startY }
        continue
      }
      if x[i] != y[j] { return x[i] < y[j] }
      i += 1
      j += 1
    }
    if x.count - i != y.count - j { return x.count - i < y.count - j }
    return x.lexicographicallyPrecedes(y)
  }

  private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  private static func trimmedZeros(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
    var digits = digits
    while digits.count > 1, digits.first == 0x30 { digits = digits.dropFirst() }
    return digits
  }
}
