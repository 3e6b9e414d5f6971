import Inspect

/// One difference between two JSON documents, at a JSON path.
public struct ConfigDifference: Sendable, Equatable {
  /// What happened at ``path``, reading from A to B.
  public enum Change: String, Sendable {
    /// Present in B only.
    case added
    /// Present in A only.
    case removed
    /// Present in both with different values (or types).
    case changed
  }

  /// Where, as a JSONPath: `$` is the document, `.key` or `["key"]` a member, `[i]` an element.
  public var path: String
  /// What happened.
  public var change: Change
  /// The value in A (absent for ``Change/added``).
  public var a: JSONValue?
  /// The value in B (absent for ``Change/removed``).
  public var b: JSONValue?
  /// Whether the path goes through a key that changes from one run of a tool to the next
  /// (see ``ConfigDiff/volatileKeys``); such differences do not make checkpoints different.
  public var isVolatile: Bool

  /// Creates a difference.
  package init(path: String, change: Change, a: JSONValue?, b: JSONValue?, isVolatile: Bool) {
    self.path = path
    self.change = change
    self.a = a
    self.b = b
    self.isVolatile = isVolatile
  }
}

/// Compares two JSON documents member by member and reports every difference by JSON path.
///
/// Objects are compared by key (member order is not a difference); arrays element by element,
/// extra elements reported as added or removed at their index; scalars exactly, so `1` and
/// `1.0` differ (a writer that changes one into the other changed the file).
public enum ConfigDiff {
  /// Keys whose values record which tool versions wrote a file, or the Hugging Face custom-code
  /// hook (`auto_map`) that follows the writer's module name. Differences under them are
  /// reported and marked volatile.
  public static let volatileKeys: Set<String> = ["speculators_version", "transformers_version", "auto_map"]

  /// Every difference between `a` and `b`, in path order (object keys sorted). A missing
  /// document is treated as absent: comparing `nil` with a document gives one difference at `$`.
  /// Differences under a key in `volatileKeys` are marked volatile.
  public static func compare(
    _ a: JSONValue?, _ b: JSONValue?, volatileKeys: Set<String> = ConfigDiff.volatileKeys
  ) -> [ConfigDifference] {
    var differences: [ConfigDifference] = []
    compare(a, b, path: "$", volatile: false, volatileKeys: volatileKeys, into: &differences)
    return differences
  }

  private static func compare(
    _ a: JSONValue?, _ b: JSONValue?, path: String, volatile: Bool, volatileKeys: Set<String>,
    into differences: inout [ConfigDifference]
  ) {
    switch (a, b) {
    case (nil, nil):
      return
    case (nil, let b?):
      differences.append(ConfigDifference(path: path, change: .added, a: nil, b: b, isVolatile: volatile))
    case (let a?, nil):
      differences.append(ConfigDifference(path: path, change: .removed, a: a, b: nil, isVolatile: volatile))
    case (.object(let membersA)?, .object(let membersB)?):
      let valuesA = Dictionary(membersA.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
      let valuesB = Dictionary(membersB.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
      for key in Set(valuesA.keys).union(valuesB.keys).sorted() {
        compare(
          valuesA[key], valuesB[key], path: path + member(key),
          volatile: volatile || volatileKeys.contains(key), volatileKeys: volatileKeys, into: &differences)
      }
    case (.array(let elementsA)?, .array(let elementsB)?):
      for index in 0..<max(elementsA.count, elementsB.count) {
        // (`JSONValue` is nil-literal expressible: spell out "absent" so it is not read as `null`.)
        let elementA: JSONValue? = index < elementsA.count ? .some(elementsA[index]) : .none
        let elementB: JSONValue? = index < elementsB.count ? .some(elementsB[index]) : .none
        compare(
          elementA, elementB,
          path: path + "[\(index)]", volatile: volatile, volatileKeys: volatileKeys, into: &differences)
      }
    case (let a?, let b?):
      if !strictlyEqual(a, b) {
        differences.append(ConfigDifference(path: path, change: .changed, a: a, b: b, isVolatile: volatile))
      }
    }
  }

  /// Equality that tells integers from doubles (``JSONValue``'s `==` does not).
  static func strictlyEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.int, .double), (.double, .int): return false
    default: return a == b
    }
  }

  /// The JSONPath step for `key`: `.key` for identifier-like keys, `["key"]` otherwise.
  static func member(_ key: String) -> String {
    let identifier = key.utf8.first.map { !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false
      && key.utf8.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
          || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
      }
    return identifier ? "." + key : "[" + JSONWriter.quote(key) + "]"
  }
}
