import Foundation
import Testing

@testable import Inspect
@testable import Validate

/// The shared pass behind `--content` and `--manifest`: the same results as separate reads.
@Suite struct TensorScanTests {
  /// An eagle3 draft plus tensors larger than a scan block, in F32 and F16.
  struct Written {
    var root: URL
    var checkpoint: Checkpoint

    init() throws {
      var spec = DraftFixtures.eagle3()
      spec.add(DraftFixtures.weight("extra.wide.weight", [300, 1031]))
      spec.add(DraftFixtures.weight("extra.half.weight", [700, 513], dtype: .F16))
      root = try SafetensorsFixture.temporaryDirectory()
      checkpoint = try spec.write(to: root.appendingPathComponent("draft")).checkpoint
    }

    var floats: [TensorInfo] { checkpoint.tensors.filter { ElementCodec.floatTypes.contains($0.dtype) } }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
  }

  @Test("one pass gives the digests and statistics separate reads give, and counts every byte")
  func onePassMatchesSeparateReads() throws {
    let written = try Written()
    defer { written.cleanUp() }
    let checkpoint = written.checkpoint
    #expect(written.floats.contains { $0.byteCount > 2 * TensorScan.blockSize && $0.dtype == .F16 })
    var request = TensorScan.Request()
    request.fileDigests = checkpoint.files.map(\.path)
    request.tensorDigests = checkpoint.tensors
    request.statistics = written.floats
    let progress = ProgressCounter(task: "test", total: 0) { _ in }
    let scan = TensorScan(request, reader: TensorReader(), progress: progress)

    for file in checkpoint.files {
      #expect(try scan.fileDigest(file.path) == CheckpointHasher.sha256(ofFile: file.path))
    }
    for tensor in checkpoint.tensors {
      #expect(try scan.digest(of: tensor) == CheckpointHasher.xxh3(of: tensor, reader: TensorReader()))
    }
    for tensor in written.floats {
      let separate = try TensorStatistics.compute(tensor, reader: TensorReader())
      TensorStatisticsTests.expectAgreement(try scan.statistics(of: tensor), separate, tensor.name)
    }
    let floatBytes = written.floats.reduce(0) { $0 + $1.byteCount }
    let fileBytes = checkpoint.files.reduce(0) { $0 + $1.size }
    #expect(progress.completed == fileBytes + checkpoint.totalTensorBytes + floatBytes)
  }

  @Test("a tensor asked for under two names is read once and counted for each")
  func sharedRegion() throws {
    let written = try Written()
    defer { written.cleanUp() }
    let tensor = try #require(written.checkpoint.tensor(named: "fc.weight"))
    var prefixed = tensor
    prefixed.name = "model.fc.weight"
    var request = TensorScan.Request()
    request.tensorDigests = [prefixed]
    request.uncountedDigests = [tensor]
    request.statistics = [tensor]
    let progress = ProgressCounter(task: "test", total: 0) { _ in }
    let scan = TensorScan(request, reader: TensorReader(), progress: progress)
    #expect(progress.completed == 2 * tensor.byteCount)
    let digest = try CheckpointHasher.xxh3(of: tensor, reader: TensorReader())
    #expect(try scan.digest(of: prefixed) == digest && scan.digest(of: tensor) == digest)
    #expect(try scan.statistics(of: prefixed).count == tensor.elementCount)
  }

  @Test("a failed read is thrown only when its result is asked for, naming the tensor asked about")
  func failuresWaitForTheirCheck() throws {
    let written = try Written()
    defer { written.cleanUp() }
    let good = try #require(written.checkpoint.tensor(named: "norm.weight"))
    let fileSize = CheckpointHasher.fileSize(good.file)
    var broken = good
    broken.name = "model.broken.weight"
    broken.layout = .contiguous(offset: fileSize - 8, length: good.byteCount)
    var renamed = broken
    renamed.name = "broken.weight"
    var request = TensorScan.Request()
    request.tensorDigests = [broken, good]
    request.statistics = [renamed, good]
    request.fileDigests = [written.root.appendingPathComponent("absent.safetensors").path]
    let scan = TensorScan(request, reader: TensorReader(), progress: nil)

    #expect(try scan.statistics(of: good).count == good.elementCount)
    let statisticsError = #expect(throws: CheckpointError.self) { try scan.statistics(of: renamed) }
    #expect(statisticsError?.tensor == "broken.weight")
    #expect(statisticsError?.reason == "tensor bytes lie outside the file")
    let digestError = #expect(throws: CheckpointError.self) { try scan.digest(of: broken) }
    #expect(digestError?.tensor == "model.broken.weight")
    let fileError = #expect(throws: CheckpointError.self) {
      try scan.fileDigest(written.root.appendingPathComponent("absent.safetensors").path)
    }
    #expect(fileError?.kind == .notFound)
  }

  @Test("a result nobody asked for is read on demand")
  func onDemand() throws {
    let written = try Written()
    defer { written.cleanUp() }
    let scan = TensorScan(TensorScan.Request(), reader: TensorReader(), progress: nil)
    let tensor = try #require(written.checkpoint.tensor(named: "lm_head.weight"))
    #expect(try scan.digest(of: tensor) == CheckpointHasher.xxh3(of: tensor, reader: TensorReader()))
    #expect(try scan.statistics(of: tensor).count == tensor.elementCount)
    let file = try #require(written.checkpoint.files.first)
    #expect(try scan.fileDigest(file.path) == CheckpointHasher.sha256(ofFile: file.path))
    let cast = try scan.castDigest(of: tensor, to: .BF16)
    #expect(cast == (try EmbeddingDigest.digest(tensor, castTo: .BF16, reader: TensorReader())))
    #expect(cast != (try scan.digest(of: tensor)))
  }
}
