/// Compact human spellings of sizes and counts, for terminal output.
enum HumanUnits {
  /// A byte count in binary units with one decimal: `512 B`, `1.5 KiB`, `64.0 MiB`.
  static func bytes(_ count: Int) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    guard count >= 1024 || count <= -1024 else { return "\(count) B" }
    var value = Double(count)
    var unit = ""
    for candidate in units {
      value /= 1024
      unit = candidate
      if abs(value) < 1024 { break }
    }
    return oneDecimal(value) + " " + unit
  }

  /// A count in decimal units with one decimal: `512`, `32.8K`, `1.2M`, `7.0B`.
  static func count(_ count: Int) -> String {
    let units = ["K", "M", "B", "T", "Q"]
    guard count >= 1000 || count <= -1000 else { return "\(count)" }
    var value = Double(count)
    var unit = ""
    for candidate in units {
      value /= 1000
      unit = candidate
      if abs(value) < 1000 { break }
    }
    return oneDecimal(value) + unit
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
