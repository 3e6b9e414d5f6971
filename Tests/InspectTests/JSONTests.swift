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

  @Test func duplicateKeyReasonIsOneLineAndKeepsTheKey() throws {
    let error = try #require(throws: StrictJSONParser.Failure.self) {
      try StrictJSONParser.parse(Array(#"{"a\nb\u001b": 1, "a\nb\u001b": 2}"#.utf8))
    }
    #expect(error.reason == #"duplicate key "a\x0ab\x1b""#)
    #expect(error.duplicateKey == "a\nb\u{1B}")
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

  @Test func readsIntegersAtTheEdgesOfInt64Exactly() throws {
    let value = try StrictJSONParser.parse(
      Array("[9223372036854775807, -9223372036854775808, 9223372036854775808, -0, 0, 12]".utf8))
    #expect(value == [.int(.max), .int(.min), .double(9_223_372_036_854_775_808), .int(0), .int(0), .int(12)])
  }

  @Test func walksAnObjectInPlaceWithKeyOffsets() {
    let text = #" {"a": [1, {"x": null}], "bb": "s"} "#
    var seen: [(String, Int, JSONValue)] = []
    var failure: StrictJSONParser.Failure?
    Array(text.utf8).withUnsafeBytes { bytes in
      var parser = StrictJSONParser(bytes)
      #expect(parser.nextValueKind() == .object)
      do throws(StrictJSONParser.Failure) {
        try parser.forEachMember { parser, key, offset throws(StrictJSONParser.Failure) in
          seen.append((key, offset, try parser.parseValue()))
        }
        try parser.finish()
      } catch {
        failure = error
      }
    }
    #expect(failure == nil)
    #expect(seen.map { $0.0 } == ["a", "bb"])
    #expect(seen.map { $0.1 } == [2, 25])
    #expect(seen.last?.2 == "s")
  }

  @Test func reportsTheDepthOfARepeatedKey() {
    for (text, depth) in [(#"{"a": 1, "a": 2}"#, 1), (#"[{"k": {"a": 1, "a": 2}}]"#, 3)] {
      #expect {
        try StrictJSONParser.parse(Array(text.utf8))
      } throws: { error in
        let failure = error as? StrictJSONParser.Failure
        return failure?.duplicateKey == "a" && failure?.depth == depth
      }
    }
  }

  @Test(arguments: [1, 7, 1 << 20])
  func streamsThePrettyStyleInChunks(chunkSize: Int) {
    let tensors: [JSONValue] = (0..<500).map { index in
      ["name": .string(index % 97 == 0 ? "layers.\(index).\u{E9}\"q\"\t" : "model.layers.\(index).weight"),
       "shape": [.int(Int64(index)), 3], "empty": [], "none": [:]]
    }
    let value: JSONValue = ["tensors": .array(tensors), "x": 1.5, "n": nil]
    var chunks: [[UInt8]] = []
    JSONWriter.writePretty(value, sortKeys: false, chunkSize: chunkSize) { chunks.append(Array($0)) }
    #expect(String(decoding: chunks.flatMap { $0 }, as: UTF8.self) == JSONWriter.pretty(value, sortKeys: false) + "\n")
    #expect(chunkSize > 1 << 19 || chunks.count > 10)
  }
  @Test(arguments: [1, 5, 1 << 20])
  func writesADocumentPieceByPieceAsItsTreeIsWritten(chunkSize: Int) {
    let tree: JSONValue = [
      "name": "a\"b\\c\u{E9}\n\u{1}", "empty": [], "none": [:], "shape": [2, 0, 12_345_678_901, -7],
      "nest\u{E9}d": [["x": nil, "y": [true, 1.5]], [:], []],
    ]
    var chunks: [[UInt8]] = []
    JSONWriter.streamPretty(chunkSize: chunkSize, to: { chunks.append(Array($0)) }) { writer in
      writer.beginObject()
      writer.key("name")
      writer.string("a\"b\\c\u{E9}\n\u{1}")
      writer.key(literal: "empty")
      writer.beginArray()
      writer.endArray()
      writer.key("none")
      writer.beginObject()
      writer.endObject()
      writer.key("shape")
      writer.beginArray()
      for dimension in [2, 0, 12_345_678_901, -7] { writer.integer(dimension) }
      writer.endArray()
      writer.key(literal: "nest\u{E9}d")
      writer.beginArray()
      writer.write(["x": nil, "y": [true, 1.5]], sortKeys: false)
      writer.write([:], sortKeys: false)
      writer.beginArray()
      writer.endArray()
      writer.endArray()
      writer.endObject()
    }
    let expected = JSONWriter.pretty(tree, sortKeys: false) + "\n"
    #expect(String(decoding: chunks.flatMap { $0 }, as: UTF8.self) == expected)
    #expect(String(decoding: JSONWriter.prettyBytes { $0.write(tree, sortKeys: false) }, as: UTF8.self) == expected)
    #expect(expected.contains(#""name": "a\"b\\c\u00e9\n\u0001","#))
    #expect(chunkSize > 1 << 19 || chunks.count > 10)
  }

  @Test func readsNonNegativeIntegersInPlaceAndLeavesEverythingElse() throws {
    let text = "[0, 12, 9223372036854775807, 9223372036854775808, -1, 1.5, 2e3, 01, \"3\"]"
    var read: [Int?] = []
    var failure: StrictJSONParser.Failure?
    Array(text.utf8).withUnsafeBytes { bytes in
      var parser = StrictJSONParser(bytes)
      do throws(StrictJSONParser.Failure) {
        try parser.forEachElement { parser, _ throws(StrictJSONParser.Failure) in
          let number = parser.parseNonNegativeInteger()
          read.append(number)
          if number == nil { _ = try parser.parseValue() }
        }
      } catch {
        failure = error
      }
    }
    #expect(read == [0, 12, .max, nil, nil, nil, nil, nil])
    #expect(failure?.reason.contains("leading zero") == true)
  }

  @Test func comparesKeysWithoutDecodingPlainOnes() {
    func keys(_ text: String) -> (keys: [(ascii: Bool, dtype: Bool, text: String)], failure: StrictJSONParser.Failure?) {
      var keys: [(ascii: Bool, dtype: Bool, text: String)] = []
      var failure: StrictJSONParser.Failure?
      Array(text.utf8).withUnsafeBytes { bytes in
        var parser = StrictJSONParser(bytes)
        do throws(StrictJSONParser.Failure) {
          try parser.forEachMemberToken { parser, key, _ throws(StrictJSONParser.Failure) in
            var ascii = false
            if case .ascii = key { ascii = true }
            keys.append((ascii, key.spells("dtype"), key.string))
            _ = try parser.parseValue()
          }
        } catch {
          failure = error
        }
      }
      return (keys, failure)
    }
    let plain = keys(#"{"dtype": 1, "dt\u0079pes": 2, "dtyp\u00e9": 3, "dtyp": 4}"#)
    #expect(plain.failure == nil)
    #expect(plain.keys.map(\.ascii) == [true, false, false, true])
    #expect(plain.keys.map(\.dtype) == [true, false, false, false])
    #expect(plain.keys.map(\.text) == ["dtype", "dtypes", "dtyp\u{E9}", "dtyp"])
    let escaped = keys(#"{"dt\u0079pe": 1}"#)
    #expect(escaped.keys.map(\.ascii) == [false])
    #expect(escaped.keys.map(\.dtype) == [true])
    // An escaped spelling repeats the plain one.
    #expect(keys(#"{"dtype": 1, "dt\u0079pe": 2}"#).failure?.duplicateKey == "dtype")
  }

  /// Strings scanned eight bytes at a time end, escape, fail and validate at every offset.
  @Test(arguments: 0..<20)
  func scansStringsToEveryOffsetOfAWord(length: Int) throws {
    let plain = String(repeating: "a", count: length)
    #expect(try StrictJSONParser.parse(Array("[\"\(plain)\", 1]".utf8)) == [.string(plain), 1])
    #expect(try StrictJSONParser.parse(Array("[\"\(plain)\\n\(plain)\"]".utf8)) == [.string(plain + "\n" + plain)])
    #expect(try StrictJSONParser.parse(Array("[\"\(plain)\u{E9}\"]".utf8)) == [.string(plain + "\u{E9}")])
    let invalid = Array("[\"\(plain)".utf8) + [0xFF] + Array("\", 1]".utf8)
    #expect {
      try StrictJSONParser.parse(invalid)
    } throws: { error in
      (error as? StrictJSONParser.Failure)?.reason == "invalid UTF-8 in string"
    }
    let control = Array("[\"\(plain)".utf8) + [0x01] + Array("\"]".utf8)
    #expect {
      try StrictJSONParser.parse(control)
    } throws: { error in
      let failure = error as? StrictJSONParser.Failure
      return failure?.reason == "control character in string" && failure?.offset == 2 + length
    }
  }

  /// The writer's plain-text test, eight bytes at a time and on the last word, escapes what
  /// needs it at every offset.
  @Test(arguments: 1..<20)
  func escapesAtEveryOffsetOfAWord(length: Int) throws {
    for position in 0..<length {
      for special in ["\"", "\\", "\n", "\u{7F}", "\u{E9}", "\u{1}"] {
        var characters = Array(repeating: "a", count: length)
        characters[position] = special
        let text = characters.joined()
        let quoted = JSONWriter.quote(text)
        #expect(try StrictJSONParser.parse(Array(quoted.utf8)) == .string(text))
        #expect(quoted.utf8.count > text.utf8.count + 2, "\(text.debugDescription) is escaped")
      }
    }
    let plain = String(repeating: "a", count: length)
    #expect(JSONWriter.quote(plain) == "\"\(plain)\"")
  }

  @Test func findsEveryDTypeByItsSpellingBytes() {
    for dtype in DType.allCases {
      var spelling = dtype.rawValue
      #expect(spelling.withUTF8 { DType(spelling: UnsafeRawBufferPointer($0)) } == dtype)
    }
    for other in ["", "bf16", "BF1", "BF166", "F8_E4M3FNUZX", String(repeating: "F", count: 20)] {
      var spelling = other
      #expect(spelling.withUTF8 { DType(spelling: UnsafeRawBufferPointer($0)) } == nil)
    }
  }
}
