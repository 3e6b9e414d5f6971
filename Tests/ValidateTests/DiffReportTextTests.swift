import Foundation
import Inspect
import Testing

@testable import Validate

@Suite(.diffScratch) struct DiffReportTextTests {
  @Test(arguments: [
    ("midlayer.mlp.down_proj.weight", "layers.0.mlp.down_proj.weight", "{midlayer => layers.0}.mlp.down_proj.weight"),
    ("fc.weight", "fusion_fc.weight", "{fc => fusion_fc}.weight"),
    ("hidden_layernorm.weight", "transformer.input_layernorm.weight", "{hidden_layernorm => transformer.input_layernorm}.weight"),
    ("a", "b", "{a => b}"),
    ("x.weight", "weight", "{x.weight => weight}"),
  ])
  func renamesShareTheirCommonSuffix(a: String, b: String, expected: String) {
    #expect(DiffReport.rename(a, b) == expected)
  }

  @Test func numbersAndSizes() {
    #expect(DiffReport.format(0.25) == "0.25")
    #expect(DiffReport.format(1.0 / 3) == "0.333333")
    #expect(DiffReport.format(1.5e-7) == "1.5e-07")
    #expect(DiffReport.format(.infinity) == "inf")
    #expect(DiffReport.size(512) == "512 B")
    #expect(DiffReport.size(1536) == "1.5 KiB")
    #expect(DiffReport.size(3 << 30) == "3.0 GiB")
  }

  @Test func longValuesAreCut() {
    let long = JSONValue.string(String(repeating: "x", count: 100))
    let brief = DiffReport.brief(long)
    #expect(brief.count == 60)
    #expect(brief.hasSuffix("..."))
    #expect(DiffReport.brief(nil) == "(absent)")
  }

  @Test func longRunsOfOneStatusAreCounted() throws {
    let tensors = (0..<25).map { index in
      TestTensor.f32(String(format: "extra.%02d.weight", index), [1], [Float(index)])
    }
    let a = try DiffScenario.conversion(config: nil)
    let b = try DiffScenario.conversion(DiffScenario.tensors() + tensors, config: nil)
    let text = try DiffScenario.diff(a, b).renderText()
    let lines = text.split(separator: "\n")
    #expect(lines.filter { $0.hasPrefix("  + extra.") }.count == DiffReport.linesPerStatus)
    #expect(lines.contains("  ... 5 more only in B (all are listed by --json)"))
  }

  @Test func stylesDecorateEachRole() throws {
    let a = try DiffScenario.conversion()
    let b = try DiffScenario.conversion(DiffScenario.tensors(rename: ["norm.weight": "final_norm.weight"]))
    let text = try DiffScenario.diff(a, b).renderText { text, style in "<\(style)>\(text)</>" }
    #expect(text.contains("<added>+ final_norm.weight</>"))
    #expect(text.contains("<removed>- norm.weight</>"))
    #expect(text.contains("<heading>Tensors:</>"))
    #expect(text.contains("<bad>different: "))
  }
}
