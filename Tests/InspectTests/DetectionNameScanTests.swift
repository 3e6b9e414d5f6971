import Testing

@testable import Inspect

/// The byte-level name scans behind detection give exactly the `String` answers.
@Suite struct TensorNamePatternTests {
  /// Names that probe Character boundaries, canonical equivalence and non-ASCII bytes.
  static let names: [String] = [
    "", "fc.weight", "fc.weight\u{301}", "layers.0.fc.weight", "x\u{301}.fc.weight", "\u{600}.fc.weight",
    "midlayer.", "midlayer.0.mlp.up_proj.weight", "midlayer.\u{301}x", "midlayer\u{301}.x",
    "embed_tokens.weight", "model.embed_tokens.weight", "e\u{301}mbed_tokens.weight", "x\u{600}embed_tokens.weight",
    "\u{212A}.weight", "K.weight", "módel.layers.0.x", "mo\u{301}del.layers.0.x", "lm_head.weight", "\r\n", "a\r",
  ]

  /// Byte-wise patterns and ones that need the `String` test (upper case, non-ASCII, CR).
  static let patterns: [String] = [
    "", "fc.weight", ".fc.weight", "midlayer.", "embed_tokens.weight", ".embed_tokens.weight", "K.weight",
    "módel.", "mo\u{301}del.", "lm_head.", "\r", "a",
  ]

  @Test(arguments: names)
  func agreesWithStringTests(name: String) {
    let bytes = Array(name.utf8)
    for text in Self.patterns {
      let pattern = TensorNamePattern(text)
      bytes.withUnsafeBufferPointer { buffer in
        #expect(pattern.isPrefix(of: buffer) == name.hasPrefix(text), "\(name.debugDescription) prefix \(text)")
        #expect(pattern.isSuffix(of: buffer) == name.hasSuffix(text), "\(name.debugDescription) suffix \(text)")
        #expect(pattern.isEqual(to: buffer) == (name == text), "\(name.debugDescription) == \(text)")
      }
    }
  }

  @Test(arguments: [
    "", "+", "-", "0", "00", "-0", "-000", "+7", "007", "12a", " 1", "1 ", "١", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999", "+-1",
  ])
  func readsSegmentsAsIntDoes(segment: String) {
    let value = Array(segment.utf8).withUnsafeBufferPointer { TensorNamePattern.integer($0) }
    #expect(value == Int(segment))
  }
}

@Suite struct TensorNameTableTests {
  typealias S = SyntheticDrafts

  @Test func repeatedNamesKeepTheFirstTensor() {
    let context = DetectionContext(
      S.checkpoint([S.tensor("b", [3]), S.tensor("a", [1]), S.tensor("a", [2])]))
    #expect(context.names.count == 2)
    #expect(context.shape("a") == [1])
    #expect(context.shape("b") == [3])
    #expect(!context.has("c"))
  }

  @Test func canonicallyEqualNamesAreOneName() {
    // U+00E9 and e + U+0301 are equal Strings, as they were equal dictionary keys.
    let context = DetectionContext(S.checkpoint([S.tensor("\u{E9}", [1]), S.tensor("e\u{301}", [2]), S.tensor("f", [3])]))
    #expect(context.names.count == 2)
    #expect(context.has("\u{E9}"))
    #expect(context.has("e\u{301}"))
    #expect(context.shape("e\u{301}") == context.shape("\u{E9}"))
  }

  @Test func strippingKeepsNameOrderAndTensors() throws {
    let context = DetectionContext(
      S.checkpoint([
        S.tensor("model.layers.0.x", [1]), S.tensor("model.fc.weight", [2]), S.tensor("lm_head.weight", [3]),
        S.tensor("model.norm.weight", [4]),
      ]))
    let stripped = try #require(context.strippingPrefix())
    #expect(stripped.prefix == "model.")
    #expect((0..<stripped.names.count).map { stripped.names[$0] } == ["fc.weight", "layers.0.x", "lm_head.weight", "norm.weight"])
    #expect(stripped.shape("fc.weight") == [2])
    #expect(stripped.shape("lm_head.weight") == [3])
    #expect(stripped.shape("norm.weight") == [4])
    #expect(!stripped.has("model.fc.weight"))
  }

  @Test func strippingNonASCIINamesFollowsStringOrder() throws {
    let names = ["model.\u{E9}a", "model.e\u{301}b", "model.z", "lm_head.\u{FC}", "model.lm_head.a"]
    let context = DetectionContext(S.checkpoint(names.enumerated().map { S.tensor($1, [$0 + 1]) }))
    let stripped = try #require(context.strippingPrefix())
    let strippedNames = (0..<stripped.names.count).map { stripped.names[$0] }
    #expect(strippedNames == strippedNames.sorted())
    #expect(strippedNames.count == 5)
    #expect(stripped.shape("e\u{301}b") == [2])
    #expect(stripped.shape("lm_head.\u{FC}") == [4])
    #expect(stripped.shape("lm_head.a") == [5])
  }

  @Test(arguments: [
    ["model.lm_head.weight", "lm_head.weight", "model.x"],  // stripping would make a name twice
    ["model.", "model.x"],  // stripping would leave an empty name
    ["model.x", "other.y"],  // not every name has the prefix
    ["lm_head.weight"],  // no name has a prefix
  ])
  func strippingIsRefused(names: [String]) {
    #expect(DetectionContext(S.checkpoint(names.map { S.tensor($0, [1]) })).strippingPrefix() == nil)
  }

  @Test func scopedViewDropsTheScope() {
    let context = DetectionContext(
      S.checkpoint([S.tensor("eagle_module.fc.weight", [2, 4]), S.tensor("eagle_module.d2t", [8]), S.tensor("x", [1])]))
    let inner = context.scoped(to: "eagle_module.")
    #expect((0..<inner.names.count).map { inner.names[$0] } == ["d2t", "fc.weight"])
    #expect(inner.columns("fc.weight") == 4)
    #expect(inner.rows("d2t") == 8)
    #expect(!inner.has("x"))
  }

  @Test func layerIndicesInOnePassMatchSeparatePasses() {
    let context = DetectionContext(
      S.checkpoint([
        "layers.0.a", "layers.12.b", "layers.-0.c", "layers.-3.d", "layers.+4.e", "x.layers.7", "midlayer.2.a",
        "midlayer.x", "a.midlayer.5.b", "layers.99999999999999999999.f", "layers", "layers.", "layers.1",
      ].map { S.tensor($0, [1]) }))
    let both = context.layerIndices(components: ["layers", "midlayer"])
    #expect(both[0] == [0, 1, 4, 7, 12])
    #expect(both[1] == [2, 5])
    #expect(both[0] == context.layerIndices())
    #expect(both[1] == context.layerIndices(component: "midlayer"))
    let scoped = DetectionContext(
      S.checkpoint(["model.layers.3.x", "model.layers.5.y", "layers.9.z"].map { S.tensor($0, [1]) }))
    #expect(scoped.layerIndices(under: "model.") == [3, 5])
  }

  /// Neighbours that share leading segments (each name is scanned from the last dot it shares
  /// with the one before) give what splitting every name gives.
  @Test func layerIndicesOfNeighboursSharingSegmentsMatchSplitting() {
    let names = [
      "a.layers.1.layers.2.x", "a.layers.1.layers.3", "a.layers.1.layers.30", "a.layers.10", "a.layers.1x.layers.4",
      "a.layers.2", "a.layers.2.midlayer.9", "a.layersx.5", "a.midlayer.6.layers.7", "layers", "layers.5.layers",
      "layers.5.layers.6", "layers.5.layersx.7", "layers.50.b", "layers.50.layers.8", "layers.6\u{E9}.layers.11",
      "layers.60.layers.12.\u{E9}", "midlayer.1.layers.13", "midlayer.1.layers.13.layers", "x.layers.14",
      "x.layers.14.layers.15", "x.layers.14.layers.15.layers.16",
    ]
    let context = DetectionContext(S.checkpoint(names.map { S.tensor($0, [1]) }))
    func split(_ component: String, under start: String) -> [Int] {
      var found = Set<Int>()
      for name in names where name.utf8.starts(with: start.utf8) {
        let segments = String(decoding: name.utf8.dropFirst(start.utf8.count), as: UTF8.self)
          .split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for index in segments.indices.dropLast() where segments[index] == component {
          if let number = Int(segments[index + 1]), number >= 0 { found.insert(number) }
        }
      }
      return found.sorted()
    }
    for start in ["", "a.", "layers.", "x.layers."] {
      let both = context.layerIndices(components: ["layers", "midlayer"], under: start)
      #expect(both[0] == split("layers", under: start), "under \(start)")
      #expect(both[1] == split("midlayer", under: start), "under \(start)")
    }
  }
}
