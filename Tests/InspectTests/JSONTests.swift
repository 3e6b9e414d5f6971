import Testing

@testable import Inspect

@Suite struct StrictJSONParserTests {
  @Test func parsesNestedDocumentKeepingOrderAndExactIntegers() throws {
    let value = try StrictJSONParser.parse(Array(#"{"b": [1, 2.5, "x"], "a": 9007199254740993}"#.utf8))
    #expect(value.objectMembers?.map(\.key) == ["b", "a"])
    #expect(value["a"] == .int(9_007_199_254_740_993))
    #expect(value["b"]?.arrayValue?.count == 3)
  }

  @Test(arguments: [
    (#"{"a": 1, "a": 2}"#, "duplicate key \"a\""),
    (#"{"a": 1} x"#, "trailing characters"),
    (#"{"a": 01}"#, "leading zero"),
    ("{\"a\": \"\u{01}\"}", "control character"),
    (#"[1, 2"#, "expected ',' or ']'"),
  ])
  func rejectsMalformedInput(text: String, reason: String) {
    #expect {
      try StrictJSONParser.parse(Array(text.utf8))
    } throws: { error in
      (error as? StrictJSONParser.Failure)?.reason.contains(reason) == true
    }
  }

  @Test func rejectsInvalidUTF8() {
    let bytes: [UInt8] = [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]
    #expect(throws: StrictJSONParser.Failure.self) { try StrictJSONParser.parse(bytes) }
  }

  @Test func writesPythonStyle() {
    let value: JSONValue = ["b": 1e-05, "a": [500000.0, true, nil], "c": "é"]
    #expect(JSONWriter.pretty(value) == """
      {
        "a": [
          500000.0,
          true,
          null
        ],
        "b": 1e-05,
        "c": "\\u00e9"
      }
      """)
    #expect(JSONWriter.compact(["x": [1, 2]]) == #"{"x":[1,2]}"#)
  }
}
