/// Compact human spellings of sizes and counts, for terminal output.
enum HumanUnits {
  /// A byte count in binary units with one decimal: `512 B`, `1.5 KiB`, `64.0 MiB`.
  static func bytes(_ count: Int) -> String {
    scaled(count, base: 1024, units: ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"], unscaled: " B", separator: " ")
  }

  /// A count in decimal units with one decimal: `512`, `32.8K`, `1.2M`, `7.0B`.
  static func count(_ count: Int) -> String {
    scaled(count, base: 1000, units: ["K", "M", "B", "T", "Q"], unscaled: "", separator: "")
  }

  /// `count` divided by `base` until it is below `base` in size, with one decimal and the unit
  /// of that step; below `base` itself, the plain integer followed by `unscaled`.
  private static func scaled(
    _ count: Int, base: Double, units: [String], unscaled: String, separator: String
  ) -> String {
    guard abs(Double(count)) >= base else { return "\(count)" + unscaled }
    var value = Double(count)
    var unit = ""
    for candidate in units {
      value /= base
      unit = candidate
      if abs(value) < base { break }
    }
    return oneDecimal(value) + separator + unit
  }

  /// An integer with thousands separators: `1,234,567`.
  static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, digit) in digits.enumerated() {
      if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
      out.append(digit)
    }
    return value < 0 ? "-" + out : out
  }

  private static func oneDecimal(_ value: Double) -> String {
    let tenths = Int((abs(value) * 10).rounded())
    return (value < 0 ? "-" : "") + "\(tenths / 10).\(tenths % 10)"
  }
}
