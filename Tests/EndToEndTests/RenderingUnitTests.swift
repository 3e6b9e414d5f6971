import Inspect
import Testing

@testable import speculators

@Suite struct RenderingUnitTests {
  @Test("lines escape every piece: controls, C1 and bidirectional overrides never reach the terminal")
  func piecesAreEscaped() {
    var lines = TerminalLines()
    lines.add("  ", styled("- evil\u{1B}[2J\u{202E}", .removed), " (only in A\u{07})")
    #expect(lines.rendered(color: false) == "  - evil\\x1b[2J\\u{202E} (only in A\\x07)\n")
    #expect(lines.rendered(color: true) == "  \u{1B}[31m- evil\\x1b[2J\\u{202E}\u{1B}[0m (only in A\\x07)\n")
  }

  @Test("colour: a terminal, TERM not dumb, NO_COLOR unset or empty")
  func colourRule() {
    #expect(OutputStream.colorWanted(isTerminal: true, noColor: nil, term: "xterm"))
    #expect(OutputStream.colorWanted(isTerminal: true, noColor: "", term: "xterm"))
    #expect(!OutputStream.colorWanted(isTerminal: true, noColor: "1", term: "xterm"))
    #expect(!OutputStream.colorWanted(isTerminal: true, noColor: nil, term: "dumb"))
    #expect(!OutputStream.colorWanted(isTerminal: false, noColor: nil, term: "xterm"))
  }

  @Test("natural order puts layers.10 after layers.2")
  func naturalOrder() {
    let names = ["layers.10.w", "layers.2.w", "layers.1.w", "fc", "layers.02.w", "norm"]
    #expect(NaturalOrder.sorted(names) { $0 } == ["fc", "layers.1.w", "layers.2.w", "layers.02.w", "layers.10.w", "norm"])
    #expect(NaturalOrder.precedes("a9", "a10"))
    #expect(!NaturalOrder.precedes("a10", "a9"))
    #expect(NaturalOrder.precedes("a", "a0"))
  }

  @Test(
    "sizes parse as people write them",
    arguments: [
      ("5GB", 5_000_000_000), ("1.5GB", 1_500_000_000), ("500MB", 500_000_000), ("2GiB", 2 << 30),
      ("1024", 1024), ("10KB", 10_000), ("1.5 gb", 1_500_000_000), ("0.5KiB", 512), ("512k", 512_000),
    ])
  func sizes(text: String, bytes: Int) {
    #expect(ByteSizeArgument(argument: text)?.bytes == bytes)
  }

  @Test("bad sizes are refused", arguments: ["", "0", "-5GB", "5XB", "GB", "1.2.3GB", ".", "0.0001B", "1e30GB"])
  func badSizes(text: String) {
    #expect(ByteSizeArgument(argument: text) == nil)
  }

  @Test(
    "dtype spellings",
    arguments: [
      ("bf16", DType.BF16), ("bfloat16", .BF16), ("torch.bfloat16", .BF16), ("BF16", .BF16),
      ("fp16", .F16), ("float16", .F16), ("half", .F16), ("torch.float16", .F16), ("torch.half", .F16),
      ("fp32", .F32), ("float32", .F32), ("float", .F32), ("torch.float32", .F32), ("F32", .F32),
    ])
  func dtypes(text: String, dtype: DType) {
    #expect(FloatDTypeArgument(argument: text)?.dtype == dtype)
  }

  @Test("unknown dtypes are refused with the accepted forms", arguments: ["int8", "float64", "torch.int32", ""])
  func badDTypes(text: String) {
    #expect(FloatDTypeArgument(argument: text) == nil)
    #expect(throws: (any Error).self) { try FloatDTypeArgument.parse(text) }
  }

  @Test("a mistyped command gets the closest one")
  func didYouMean() {
    #expect(Speculators.unknownCommandMessage("convrt")?.contains("did you mean 'convert'") == true)
    #expect(Speculators.unknownCommandMessage("verfy")?.contains("did you mean 'verify'") == true)
    #expect(Speculators.unknownCommandMessage("insp")?.contains("did you mean 'inspect'") == true)
    #expect(Speculators.unknownCommandMessage("zzzzzzzz")?.contains("the commands are convert") == true)
    #expect(Speculators.unknownCommandMessage("convert") == nil)
    #expect(Speculators.unknownCommandMessage("--help") == nil)
    #expect(EditDistance.between("kitten", "sitting") == 3)
  }

  @Test(arguments: [
    ("midlayer.mlp.down_proj.weight", "layers.0.mlp.down_proj.weight", "{midlayer => layers.0}.mlp.down_proj.weight"),
    ("fc.weight", "fusion_fc.weight", "{fc => fusion_fc}.weight"),
    ("a", "b", "{a => b}"),
    ("x.weight", "weight", "{x.weight => weight}"),
  ])
  func diffRenamesShareTheirCommonSuffix(a: String, b: String, expected: String) {
    #expect(DiffRendering.rename(a, b) == expected)
  }

  @Test func diffNumbersSizesAndValues() {
    #expect(DiffRendering.format(0.25) == "0.25")
    #expect(DiffRendering.format(1.0 / 3) == "0.333333")
    #expect(DiffRendering.format(1.5e-7) == "1.5e-07")
    #expect(DiffRendering.format(.infinity) == "inf")
    #expect(DiffRendering.size(1536) == "1.5 KiB")
    #expect(DiffRendering.sizeChange(1536, 3 << 30) == "1.5 KiB -> 3.0 GiB")
    #expect(DiffRendering.sizeChange(4096, 4100) == "4.0 KiB -> 4.0 KiB (4096 -> 4100 bytes)")
    let brief = DiffRendering.brief(.string(String(repeating: "x", count: 100)))
    #expect(brief.count == 60 && brief.hasSuffix("..."))
    #expect(DiffRendering.brief(nil) == "(absent)")
  }
}
