import Foundation
import Inspect
import Synchronization
import Testing

@testable import Validate

/// A tiny eagle3 conversion (hidden 8, intermediate 16, draft vocab 4, vocab 16) and variants.
enum DiffScenario {
  static let config: JSONValue = [
    "architectures": ["Eagle3Speculator"],
    "draft_vocab_size": 4,
    "speculators_model_type": "eagle3",
    "speculators_version": "0.1.0",
    "torch_dtype": "float32",
    "transformer_layer_config": ["hidden_size": 8, "intermediate_size": 16, "vocab_size": 16],
    "transformers_version": "4.53.3",
  ]

  /// The float tensors, by name, shape and values (exact in F16/BF16).
  static let floats: [(name: String, shape: [Int], values: [Float])] = [
    ("fc.weight", [8, 24], exactValues(192)),
    ("layers.0.mlp.down_proj.weight", [8, 16], exactValues(128, offset: 5)),
    ("norm.weight", [8], exactValues(8, offset: 11)),
  ]

  static let vocabMaps: [TestTensor] = [
    .i64("d2t", [0, 3, 5, 9]),
    .bool("t2d", [true, false, false, true, false, true, false, false, false, true, false, false, false, false, false, false]),
  ]

  static func tensors(
    _ dtype: DType = .F32, perturb: (name: String, index: Int, by: Float)? = nil, rename: [String: String] = [:]
  ) -> [TestTensor] {
    floats.map { entry in
      var values = entry.values
      if let perturb, perturb.name == entry.name { values[perturb.index] += perturb.by }
      let name = rename[entry.name] ?? entry.name
      switch dtype {
      case .F16: return TestTensor.f16(name, entry.shape, values)
      case .BF16: return TestTensor.bf16(name, entry.shape, values)
      default: return TestTensor.f32(name, entry.shape, values)
      }
    } + vocabMaps
  }

  static func conversion(
    _ tensors: [TestTensor] = tensors(), config: JSONValue? = config, extraShard: [TestTensor]? = nil
  ) throws -> Checkpoint {
    var shards: [(file: String, tensors: [TestTensor])] = [("model.safetensors", tensors)]
    if let extraShard { shards.append(("extra.safetensors", extraShard)) }
    return try TestCheckpoints.write(shards, config: config, in: try TestCheckpoints.directory())
  }

  static func diff(_ a: Checkpoint, _ b: Checkpoint, _ options: DiffOptions? = nil) throws -> DiffReport {
    try CheckpointDiffer.diff(a, b, options: options ?? DiffOptions())
  }
}

@Suite(.diffScratch) struct DiffCheckpointTests {
  @Test func identicalConversionsAreIdentical() throws {
    let report = try DiffScenario.diff(try DiffScenario.conversion(), try DiffScenario.conversion())
    #expect(report.result == .identical)
    #expect(report.exitStatus == 0)
    #expect(report.tensors.count == 5)
    #expect(report.tensors.allSatisfy { $0.status == .identical })
    #expect(report.tensors.allSatisfy { $0.a?.digest != nil && $0.a?.digest == $0.b?.digest })
    #expect(report.configDifferences.isEmpty && report.fileDifferences.isEmpty && report.metadataDifferences.isEmpty)
    #expect(report.statusCounts == [.identical: 5] && report.dtypeChanges == 0)
  }

  @Test func halfAndSinglePrecisionConversionsAreEqualByValue() throws {
    let half = try DiffScenario.conversion(DiffScenario.tensors(.F16))
    let single = try DiffScenario.conversion(DiffScenario.tensors(.F32))
    let exact = try DiffScenario.diff(half, single)
    let floats = exact.tensors.filter { $0.a?.dtype == .F16 }
    #expect(floats.count == 3)
    #expect(floats.allSatisfy { $0.status == .equalValues && $0.b?.dtype == .F32 })
    #expect(floats.allSatisfy { $0.statistics?.maxAbsDifference == 0 && $0.statistics?.beyondTolerance == 0 })
    // Hashed during the value pass: each side's digest is of its own bytes.
    #expect(floats.allSatisfy { $0.a?.digest != nil && $0.b?.digest != nil && $0.a?.digest != $0.b?.digest })
    #expect(exact.tensors.filter { $0.status == .identical }.map(\.name) == ["d2t", "t2d"])
    #expect(exact.result == .different)
    #expect(exact.dtypeChanges == 3)

    let byValue = try DiffScenario.diff(half, single, DiffOptions(values: true))
    #expect(byValue.result == .equal)
    #expect(byValue.exitStatus == 0)
    #expect(byValue.fileDifferences.count == 1 && byValue.fileDifferences.allSatisfy { !$0.isDifference })
    #expect(byValue.statusCounts == [.identical: 2, .equalValues: 3] && byValue.dtypeChanges == 3)
  }

  @Test func onePerturbedElementIsFoundWithItsIndexAndMagnitude() throws {
    let name = "layers.0.mlp.down_proj.weight"
    let flat = 5 * 16 + 11
    let original = DiffScenario.floats[1].values[flat]
    let report = try DiffScenario.diff(
      try DiffScenario.conversion(), try DiffScenario.conversion(DiffScenario.tensors(perturb: (name, flat, 0.25))))
    #expect(report.result == .different)
    let changed = report.tensors.filter { $0.status != .identical }
    #expect(changed.map(\.name) == [name])
    let statistics = try #require(changed.first?.statistics)
    #expect(statistics.elementCount == 128)
    #expect(statistics.beyondTolerance == 1)
    #expect(statistics.maxAbsDifference == 0.25)
    #expect(statistics.maxAbsDifferenceIndex == flat)
    #expect(DiffReport.unravel(flat, shape: [8, 16]) == [5, 11])
    #expect(statistics.aAtMax == Double(original))
    #expect(statistics.bAtMax == Double(original + 0.25))
    #expect(statistics.meanAbsDifference == 0.25 / 128)
    #expect(statistics.firstBeyondToleranceIndex == flat)
    #expect(statistics.beyondTolerance == 1 && statistics.elementCount == 128)
    #expect(report.result == .different && report.statusCounts == [.identical: 4, .different: 1])
  }

  @Test func structureOnlyReadsNoBytesAndKeepsTheStructuralVerdicts() throws {
    let name = "layers.0.mlp.down_proj.weight"
    let a = try DiffScenario.conversion()
    let perturbed = try DiffScenario.conversion(DiffScenario.tensors(perturb: (name, 3, 0.25)))
    let options = try DiffOptions(structureOnly: true)
    let same = try DiffScenario.diff(a, perturbed, options)
    #expect(same.result == .equal)  // bytes differ, but none was read
    #expect(same.tensors.allSatisfy { $0.status == .bytesNotRead && $0.a?.digest == nil && $0.b?.digest == nil })
    #expect(same.statusCounts == [.bytesNotRead: 5])
    // Dtype changes still count; shapes and names as in an exact diff.
    let half = try DiffScenario.diff(a, try DiffScenario.conversion(DiffScenario.tensors(.F16)), options)
    #expect(half.result == .different)
    #expect(half.tensors.filter { $0.status == .notComparable }.count == 3)
    #expect(half.dtypeChanges == 3)
    #expect(throws: UsageError("--values", reason: "a structure-only comparison reads no values")) {
      _ = try DiffOptions(values: true, structureOnly: true)
    }
  }

  @Test func aPerturbationWithinToleranceIsEqualWithValues() throws {
    let name = "norm.weight"
    let a = try DiffScenario.conversion()
    let b = try DiffScenario.conversion(DiffScenario.tensors(perturb: (name, 3, 1.0 / 4096)))
    #expect(try DiffScenario.diff(a, b, DiffOptions(rtol: 0, atol: 1e-3)).result == .equal)
    let tight = try DiffScenario.diff(a, b, DiffOptions(values: true))
    #expect(tight.result == .different)
    #expect(tight.tensors.first { $0.name == name }?.statistics?.beyondTolerance == 1)
  }

  @Test func aRenamedTensorIsReportedOnBothSides() throws {
    let report = try DiffScenario.diff(
      try DiffScenario.conversion(),
      try DiffScenario.conversion(DiffScenario.tensors(rename: ["norm.weight": "final_norm.weight"])))
    let changed = report.tensors.filter { $0.status != .identical }
    #expect(changed.map(\.name) == ["final_norm.weight", "norm.weight"])
    #expect(changed.map(\.status) == [.onlyInB, .onlyInA])
    #expect(changed[0].b?.shape == [8] && changed[0].a == nil)
    // The header of model.safetensors changed size with the name; reported, not counted.
    #expect(report.fileDifferences.map(\.name) == ["model.safetensors"])
    #expect(report.fileDifferences.first?.isDifference == false)
    #expect(report.result == .different && report.statusCounts == [.identical: 4, .onlyInA: 1, .onlyInB: 1])
  }

  @Test func aChangedConfigKeyIsReportedByPath() throws {
    let changed = DiffScenario.config.setting("draft_vocab_size", to: 5)
    let report = try DiffScenario.diff(try DiffScenario.conversion(), try DiffScenario.conversion(config: changed))
    #expect(
      report.configDifferences == [
        ConfigDifference(path: "$.draft_vocab_size", change: .changed, a: 4, b: 5, isVolatile: false)
      ])
    // Explained by the config section, so config.json does not show again as a file difference.
    #expect(report.fileDifferences.isEmpty)
    #expect(report.result == .different)
  }

  @Test func volatileConfigKeysDoNotMakeCheckpointsDifferent() throws {
    let newer = DiffScenario.config.setting("transformers_version", to: "4.57.6")
    let report = try DiffScenario.diff(try DiffScenario.conversion(), try DiffScenario.conversion(config: newer))
    #expect(report.configDifferences.map(\.path) == ["$.transformers_version"])
    #expect(report.configDifferences.allSatisfy { $0.isVolatile })
    #expect(report.result == .identical)
    #expect(report.statusCounts == [.identical: 5])
  }

  @Test func configFormattingAloneDoesNotCount() throws {
    let a = try DiffScenario.conversion()
    let b = try DiffScenario.conversion()
    let path = try #require(b.files.first { $0.kind == .config }?.path)
    try Data(JSONWriter.compact(DiffScenario.config).utf8).write(to: URL(fileURLWithPath: path))
    var rewritten = b
    rewritten.files = b.files.map { file in
      var copy = file
      if file.kind == .config { copy.size = (try? TestCheckpoints.size(of: path)) ?? 0 }
      return copy
    }
    let report = try DiffScenario.diff(a, rewritten)
    #expect(report.fileDifferences.map(\.name) == ["config.json"])
    #expect(report.fileDifferences.first?.isDifference == false)
    #expect(report.result == .equal)
  }

  @Test func anExtraShardIsReportedAsFilesAndTensors() throws {
    let extra = TestTensor.f32("extra.weight", [4], [1, 2, 3, 4])
    let report = try DiffScenario.diff(
      try DiffScenario.conversion(), try DiffScenario.conversion(extraShard: [extra]))
    #expect(report.fileDifferences.map(\.name) == ["extra.safetensors", "model.safetensors.index.json"])
    #expect(report.fileDifferences.allSatisfy { $0.change == .onlyInB && $0.isDifference && $0.bSize != nil })
    let changed = report.tensors.filter { $0.status != .identical }
    #expect(changed.map(\.name) == ["extra.weight"])
    #expect(changed.first?.status == .onlyInB)
    #expect(changed.first?.b?.file == "extra.safetensors")
    #expect(report.metadataDifferences.map(\.path) == [#"$["extra.safetensors"]"#])
    #expect(report.result == .different)
  }

  @Test func shapeChangesAreNotValueCompared() throws {
    var tensors = DiffScenario.tensors()
    tensors[2] = TestTensor.f32("norm.weight", [2, 4], DiffScenario.floats[2].values)
    let report = try DiffScenario.diff(try DiffScenario.conversion(), try DiffScenario.conversion(tensors))
    let norm = try #require(report.tensors.first { $0.name == "norm.weight" })
    #expect(norm.status == .shapeChanged)
    #expect(norm.statistics == nil)
    #expect(norm.a?.shape == [8] && norm.b?.shape == [2, 4])
  }

  @Test func signedZerosAreEqualInValueButNotInBytes() throws {
    let a = try DiffScenario.conversion([TestTensor.f32("z", [2], [0, 1])], config: nil)
    let b = try DiffScenario.conversion([TestTensor.f32("z", [2], [-0.0, 1])], config: nil)
    let report = try DiffScenario.diff(a, b)
    #expect(report.tensors.first?.status == .equalValues)
    #expect(report.tensors.first?.note == "bytes differ (signed zeros or NaN payloads)")
    #expect(report.result == .different)
    #expect(try DiffScenario.diff(a, b, DiffOptions(values: true)).result == .equal)
  }

  @Test func stridedAndContiguousStorageOfTheSameValuesAreIdentical() throws {
    // A: a transposed view into a storage (as a torch .bin holds `w.t()`); B: the dense tensor.
    let directory = try TestCheckpoints.directory()
    let storagePath = directory.appendingPathComponent("storage.bin").path
    let storage: [Float] = (0..<12).map { Float($0) / 8 }
    try Data(storage.flatMap { TestTensor.littleEndian($0.bitPattern) }).write(to: URL(fileURLWithPath: storagePath))
    let strided = TensorInfo(
      name: "w", dtype: .F32, shape: [3, 4], file: storagePath,
      layout: .strided(storageOffset: 0, storageLength: 48, elementOffset: 0, strides: [1, 3], bigEndian: false))
    let a = Checkpoint(
      location: directory.path, directory: directory.path,
      files: [CheckpointFile(path: storagePath, name: "storage.bin", size: 48, kind: .torchZip)], config: nil,
      tensors: [strided])
    let dense = (0..<3).flatMap { row in (0..<4).map { column in storage[column * 3 + row] } }
    let b = try DiffScenario.conversion([TestTensor.f32("w", [3, 4], dense)], config: nil)
    let report = try DiffScenario.diff(a, b, DiffOptions(mapping: .none))
    #expect(report.tensors.first?.status == .identical)
    // Same values as F16 on the B side: the value pass walks the strided view block by block.
    let half = try DiffScenario.conversion([TestTensor.f16("w", [3, 4], dense)], config: nil)
    let byValue = try DiffScenario.diff(a, half)
    #expect(byValue.tensors.first?.status == .equalValues)
    #expect(byValue.tensors.first?.statistics?.elementCount == 12)
  }

  @Test func largeTensorsAreComparedAcrossManyBlocks() throws {
    let count = TensorDiff.blockElements * 3 + 17
    let values = (0..<count).map { Float($0 % 1000) / 16 }
    var perturbed = values
    perturbed[count - 2] += 1
    perturbed[TensorDiff.blockElements + 1] -= 0.5
    let a = try DiffScenario.conversion([TestTensor.f32("big", [count], values)], config: nil)
    let b = try DiffScenario.conversion([TestTensor.f16("big", [count], perturbed)], config: nil)
    let statistics = try #require(try DiffScenario.diff(a, b).tensors.first?.statistics)
    #expect(statistics.elementCount == count)
    #expect(statistics.beyondTolerance == 2)
    #expect(statistics.maxAbsDifference == 1)
    #expect(statistics.maxAbsDifferenceIndex == count - 2)
    #expect(statistics.firstBeyondToleranceIndex == TensorDiff.blockElements + 1)
  }

  @Test func undecodableDtypesFallBackToDigests() throws {
    let a = try DiffScenario.conversion([TestTensor(name: "q", dtype: .F4, shape: [4], bytes: [0x12, 0x34])], config: nil)
    let b = try DiffScenario.conversion([TestTensor(name: "q", dtype: .F4, shape: [4], bytes: [0x12, 0x35])], config: nil)
    let report = try DiffScenario.diff(a, b)
    #expect(report.tensors.first?.status == .different)
    #expect(report.tensors.first?.note == "values of F4/F4 are not decoded")
  }

  @Test func invalidTolerancesAreRefused() throws {
    #expect(throws: UsageError("--rtol", reason: "must be a finite number >= 0, got -1.0")) {
      try DiffOptions(rtol: -1)
    }
    #expect(throws: UsageError("--atol", reason: "must be a finite number >= 0, got nan")) {
      try DiffOptions(atol: .nan)
    }
    #expect(!DiffOptions.isValidTolerance(.infinity) && DiffOptions.isValidTolerance(0))
  }

  @Test func progressReachesTheTotal() throws {
    let seen = Mutex<[ProgressUpdate]>([])
    let a = try DiffScenario.conversion()
    let b = try DiffScenario.conversion(DiffScenario.tensors(.F16))
    _ = try CheckpointDiffer.diff(a, b, options: DiffOptions()) { progress in seen.withLock { $0.append(progress) } }
    let reports = seen.withLock { $0 }
    #expect(reports.count == 5)
    let last = try #require(reports.max { ($0.tensorsDone ?? 0) < ($1.tensorsDone ?? 0) })
    #expect(last.task == "diff")
    #expect(last.tensorsDone == 5 && last.tensorsTotal == 5)
    #expect(last.bytesDone == last.bytesTotal)
    #expect(last.bytesTotal == a.totalTensorBytes + b.totalTensorBytes)
  }

  @Test func optionsDefaults() throws {
    let exact = try DiffOptions()
    #expect(exact.relativeTolerance == 0 && exact.absoluteTolerance == 0)
    #expect(!exact.compareValues)
    let values = try DiffOptions(values: true)
    #expect(values.relativeTolerance == 1e-5 && values.absoluteTolerance == 1e-8)
    let implied = try DiffOptions(atol: 0.5)
    #expect(implied.compareValues && implied.relativeTolerance == 1e-5 && implied.absoluteTolerance == 0.5)
  }
}
