import Inspect
import Testing

@Suite("Which files are a checkpoint's weights")
struct WeightFilesTests {
  @Test(
    "transformers' names first, then one index, then one safetensors file, then one pickle",
    arguments: [
      (["config.json", "model.safetensors", "pytorch_model.bin"], WeightFiles.Selection.file("model.safetensors")),
      (["model.safetensors.index.json", "model-00001-of-00002.safetensors"], .index("model.safetensors.index.json")),
      (["pytorch_model.bin", "training_args.bin"], .file("pytorch_model.bin")),
      (["consolidated.safetensors", "sub/x.safetensors"], .file("consolidated.safetensors")),
      (["state.pt", "optimizer.pt", "rng_state_0.pth"], .file("state.pt")),
      (["a.safetensors.index.json", "b.bin.index.json"], .index("a.safetensors.index.json")),
      (["draft.safetensors", "draft.bin"], .file("draft.safetensors")),
      (["pytorch_model_0.bin", "pytorch_model_1.bin"], .file("pytorch_model_0.bin")),
    ])
  func selects(names: [String], expected: WeightFiles.Selection) {
    #expect(WeightFiles.select(among: names) == .success(expected))
  }

  @Test("no weights, several indexes and several un-indexed files are refused with their names")
  func refuses() {
    #expect(WeightFiles.select(among: ["config.json", "README.md", "training_args.bin"]) == .failure(.none))
    #expect(
      WeightFiles.select(among: ["a.safetensors.index.json", "b.safetensors.index.json"])
        == .failure(.severalIndexes(["a.safetensors.index.json", "b.safetensors.index.json"])))
    #expect(
      WeightFiles.select(among: ["b.safetensors", "a.safetensors", "c.bin"])
        == .failure(.severalFiles(["a.safetensors", "b.safetensors"])))
    #expect(
      WeightFiles.Refusal.severalFiles(["a.pt", "b.pt"]).reason
        == "several weights files and no index (a.pt, b.pt); pass the one to use")
  }
}
