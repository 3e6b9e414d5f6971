import Foundation
import Inspect
import Synchronization
import Testing

@testable import Convert

/// Whether `CheckpointReader.open` is built in this tree (skips these tests in a tree without the readers).
private let readersAvailable: Bool = {
  (try? CheckpointReader.open(FixturePaths.path("eagle-safetensors"))) != nil
}()

@Suite(
  "Conversions through the real checkpoint readers",
  .enabled(if: readersAvailable, "checkpoint readers are not built in this tree"))
struct RealReaderConversionTests {
  @Test("a sharded source (index + two shards) converts like the single-file one")
  func shardedSource() throws {
    let parent = try makeTemporaryDirectory()
    let draft = parent + "/sharded"
    try FileManager.default.createDirectory(atPath: draft, withIntermediateDirectories: true)
    let single = try CheckpointReader.open(FixturePaths.path("eagle3-embed"))
    let entries = single.tensors.map {
      SafetensorsWriter.Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape, content: .tensor($0))
    }
    let written = try SafetensorsWriter(maxShardSize: 100_000).write(
      entries, into: draft, reader: TensorReader())
    #expect(written.files.contains { $0.name == "model.safetensors.index.json" })
    try FileManager.default.copyItem(
      atPath: FixturePaths.path("eagle3-embed/config.json"), toPath: draft + "/config.json")

    let request = { (model: String, output: String) in
      ConversionRequest(
        model: model, verifier: FixturePaths.path("verifier"), algorithm: .eagle3,
        outputPath: output)
    }
    _ = try Converter.convert(request(draft, parent + "/from-shards"))
    _ = try Converter.convert(request(FixturePaths.path("eagle3-embed"), parent + "/from-single"))
    let fromShards = try AuditManifest(contentsOf: parent + "/from-shards/speculators-manifest.json")
    let fromSingle = try AuditManifest(contentsOf: parent + "/from-single/speculators-manifest.json")
    #expect(fromShards.tensors == fromSingle.tensors)
    #expect(fromShards.files == fromSingle.files)
    #expect(fromShards.source.files.map(\.name).contains("model.safetensors.index.json"))
  }

  @Test("a single weights file (with config.json beside it) is a source too")
  func singleFile() throws {
    let parent = try makeTemporaryDirectory()
    let report = try Converter.convert(
      ConversionRequest(
        model: FixturePaths.path("eagle1-bin/pytorch_model.bin"),
        verifier: FixturePaths.path("verifier"),
        algorithm: .auto, outputPath: parent + "/out", validateDevice: "cpu"))
    #expect(report.algorithm == .eagle)
    #expect(report.flags.first { $0.key == "fusion_bias" }?.value == true)
    #expect((report.validation?.checks.count ?? 0) >= 4)
  }

  @Test("progress: each stage in order, tensor writing and validation reaching their totals")
  func progressStages() throws {
    let parent = try makeTemporaryDirectory()
    let draft = FixturePaths.path("eagle3-embed")
    let updates = Mutex<[ProgressUpdate]>([])
    let report = try Converter.convert(
      ConversionRequest(
        model: draft, verifier: FixturePaths.path("verifier"), algorithm: .eagle3,
        outputPath: parent + "/out", validateDevice: "cpu"),
      progress: { update in updates.withLock { $0.append(update) } })
    let seen = updates.withLock { $0 }
    var stages: [String] = []
    for update in seen where stages.last != update.task { stages.append(update.task) }
    #expect(stages == ["reading \(draft)", "writing tensors", "hashing source files", "validating"])
    let written = seen.filter { $0.task == "writing tensors" }
    let tensorBytes = report.tensors.reduce(0) { $0 + (checkedByteCount(shape: $1.shape, dtype: $1.dtype) ?? 0) }
    #expect(written.last?.bytesTotal == tensorBytes)
    #expect(written.last?.bytesDone == tensorBytes)
    // Tensors are written one after another.
    #expect(zip(written, written.dropFirst()).allSatisfy { $0.bytesDone <= $1.bytesDone })
    // Validation reads from several threads: its updates arrive in any order.
    let validating = try #require(seen.filter { $0.task == "validating" }.max { $0.bytesDone < $1.bytesDone })
    #expect(validating.bytesDone == validating.bytesTotal && (validating.bytesTotal ?? 0) > 0)
  }

  @Test("the embeddings come from the one verifier shard that holds them")
  func embeddingShard() throws {
    let verifier = VerifierModel.self
    let model = try verifier.load(
      .local(FixturePaths.path("verifier")))
    let (tensor, file) = try model.locateEmbeddings(open: { path throws(CheckpointError) in
      try CheckpointReader.open(path)
    })
    #expect(file == "model-00001-of-00002.safetensors")
    #expect(tensor.name == "model.embed_tokens.weight")
    #expect(tensor.file.hasSuffix("/model-00001-of-00002.safetensors"))
  }
}
