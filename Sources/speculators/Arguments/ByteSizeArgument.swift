import ArgumentParser

/// A size in bytes as people write it: `5000000000`, `5GB`, `1.5GB`, `500 MB`, `2GiB`, `512k`.
///
/// Decimal units (`KB`, `MB`, `GB`, `TB`, and `K`, `M`, `G`, `T`) are powers of 1000, as Hugging
/// Face's `max_shard_size` counts; binary units (`KiB`, `MiB`, `GiB`, `TiB`) powers of 1024.
/// Units are case-insensitive, a fraction is allowed before a unit, and the result must be a
/// positive whole number of bytes that fits in an `Int`.
struct ByteSizeArgument: ExpressibleByArgument, Sendable, Equatable {
  /// The size in bytes.
  var bytes: Int

  init(bytes: Int) { self.bytes = bytes }

  /// The units, longest first so `GiB` is not read as `B`.
  private static let units: [(String, Double)] = [
    ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("tib", 1_099_511_627_776),
    ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12),
    ("k", 1e3), ("m", 1e6), ("g", 1e9), ("t", 1e12), ("b", 1),
  ]

  init?(argument: String) {
    var text = Substring(argument.lowercased())
    while text.first == " " { text.removeFirst() }
    while text.last == " " { text.removeLast() }
    var scale = 1.0
    for (unit, value) in Self.units where text.hasSuffix(unit) {
      text.removeLast(unit.count)
      scale = value
      break
    }
    while text.last == " " { text.removeLast() }
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      text.filter({ $0 == "." }).count <= 1, text != "."
    else { return nil }
    if scale == 1, !text.contains("."), let whole = Int(text) {
      guard whole > 0 else { return nil }
      bytes = whole
      return
    }
    guard let number = Double(text) else { return nil }
    let product = (number * scale).rounded()
    guard product >= 1, product < 9.2e18 else { return nil }
    bytes = Int(product)
  }

  /// The accepted forms, for help and errors.
  static let acceptedForms = "bytes (5000000000) or a number and a unit: 5GB, 1.5GB, 500MB (powers of 1000), 2GiB (powers of 1024)"
}

extension ByteSizeArgument {
  /// Parses `text`, or throws an error listing the accepted forms (for `@Option(transform:)`).
  static func parse(_ text: String) throws -> Self {
    guard let value = Self(argument: text) else {
      throw ValidationError("'\(text)' is not a size; use \(acceptedForms)")
    }
    return value
  }
}
