/// Short phrases describing a JSON value in error messages.
enum JSONDescription {
  /// "an array", "a string", "null", or the number itself ("-1", "1.5").
  static func describe(_ value: JSONValue) -> String {
    switch value {
    case .int(let number): return "\(number)"
    case .double(let number): return JSONWriter.formatDouble(number)
    case .null: return "null"
    case .array, .object: return "an \(value.typeName)"
    default: return "a \(value.typeName)"
    }
  }

  /// The value's type with its article: "an array", "a number", "null".
  static func typeWithArticle(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .array, .object: return "an \(value.typeName)"
    default: return "a \(value.typeName)"
    }
  }
}
