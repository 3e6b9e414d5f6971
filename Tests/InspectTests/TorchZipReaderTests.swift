import Foundation
import Testing

@testable import Inspect

@Suite struct TorchZipReaderTests {
  @Test func readsTheGoldenFileOfTheReference() throws {
    let path = TorchFixtures.path("golden-ex.pt")
    let tensors = try TorchZipReader.readTensors(from: try MappedFile(path: path))
    #expect(tensors.map(\.name) == ["emb", "emb_col"])
    let emb = try #require(tensors.first)
    let column = try #require(tensors.last)
    #expect(emb.dtype == .BF16 && emb.shape == [2, 3])
    #expect(emb.layout == .contiguous(offset: 704, length: 12))
    #expect(column.dtype == .BF16 && column.shape == [2])
    #expect(column.layout == .strided(
      storageOffset: 704, storageLength: 12, elementOffset: 1, strides: [3], bigEndian: false))
    let reader = TensorReader()
    // bf16 little-endian: 1..6 and the column 2.0, 5.0.
    #expect(try reader.bytes(of: emb) == goldenStorageBytes)
    #expect(try reader.bytes(of: column) == [0x00, 0x40, 0xA0, 0x40])
  }

  @Test(arguments: TorchFixtures.expected.keys.sorted())
  func readsFilesWrittenByTorch(file: String) throws {
    let expected = try #require(TorchFixtures.expected[file])
    let tensors = try TorchZipReader.readTensors(from: try MappedFile(path: TorchFixtures.path(file)))
    #expect(tensors.map(\.name) == expected.map(\.name))
    let reader = TensorReader()
    for (tensor, want) in zip(tensors, expected) {
      #expect(tensor.dtype.rawValue == want.dtype, "\(file) \(want.name)")
      #expect(tensor.shape == want.shape, "\(file) \(want.name)")
      let layout: String
      switch tensor.layout {
      case .contiguous: layout = "contiguous"
      case .strided: layout = "strided"
      }
      #expect(layout == want.layout, "\(file) \(want.name)")
      let bytes = try reader.bytes(of: tensor)
      #expect(bytes.count == tensor.byteCount, "\(file) \(want.name)")
      #expect(try bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) } == want.sha256, "\(file) \(want.name)")
    }
  }

  @Test func expectationsCoverEveryGeneratedFile() {
    #expect(Set(TorchFixtures.expected.keys) == [
      "bigendian.pt", "buffer.pt", "dtypes.pt", "fp8.pt", "module.pt", "parameter.pt", "views.pt",
      "wrapped.pt", "protocol1.pt", "protocol4.pt", "protocol5.pt",
    ])
  }

  @Test func viewsMapToTheExpectedLayouts() throws {
    let tensors = try TorchZipReader.readTensors(from: try MappedFile(path: TorchFixtures.path("views.pt")))
    let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
    let grid = try #require(byName["grid"])
    guard case .contiguous(let gridOffset, 48) = grid.layout else {
      Issue.record("grid should be contiguous, 48 bytes: \(grid.layout)")
      return
    }
    // Rows 1..2 of the same storage: contiguous, 6 elements × 2 bytes further on.
    #expect(byName["grid_rows"]?.layout == .contiguous(offset: gridOffset + 12, length: 24))
    #expect(byName["grid_t"]?.layout == .strided(
      storageOffset: gridOffset, storageLength: 48, elementOffset: 0, strides: [1, 6], bigEndian: false))
    #expect(byName["grid_block"]?.layout == .strided(
      storageOffset: gridOffset, storageLength: 48, elementOffset: 8, strides: [6, 1], bigEndian: false))
    guard case .strided(_, 4, 0, [0, 0], false)? = byName["expanded"]?.layout else {
      Issue.record("expanded should be a stride-0 view of one float: \(String(describing: byName["expanded"]))")
      return
    }
    #expect(byName["scalar"]?.shape == [])
    #expect(byName["empty"]?.byteCount == 0)
  }

  @Test func bigEndianArchivesAreStridedAndSwapped() throws {
    let tensors = try TorchZipReader.readTensors(from: try MappedFile(path: TorchFixtures.path("bigendian.pt")))
    let grid = try #require(tensors.first { $0.name == "grid" })
    guard case .strided(_, 48, 0, [6, 1], true) = grid.layout else {
      Issue.record("big-endian grid should be strided with bigEndian set: \(grid.layout)")
      return
    }
  }

  @Test func storageRecordsAreLocatedThroughLocalHeaders() throws {
    // The prefix comes from the first entry, whatever the file was called.
    let file = try MappedFile(path: TorchFixtures.path("buffer.pt"))
    let archive = try ZipArchive(file)
    #expect(archive.entries.first?.name == "archive/data.pkl")
    let tensors = try TorchZipReader.readTensors(from: file)
    let record = try #require(archive.entry(named: "archive/data/0"))
    #expect(tensors.first?.layout == .contiguous(offset: record.dataOffset, length: 10))
  }
}

/// A torch.save-shaped archive around `pickle`: `t/data.pkl`, `t/byteorder`, `t/data/<key>`.
func torchArchive(
  _ pickle: [UInt8], records: [(String, [UInt8])] = [("0", Array(repeating: 0, count: 24))],
  byteorder: String? = "little", extra: [(String, [UInt8])] = []
) -> ZipFixtureBuilder {
  var builder = ZipFixtureBuilder()
  builder.add("t/data.pkl", pickle)
  if let byteorder { builder.add("t/byteorder", byteorder) }
  for (key, data) in records { builder.add("t/data/\(key)", data) }
  for (name, data) in extra { builder.add(name, data) }
  builder.add("t/version", "3\n")
  return builder
}

func readTorch(_ builder: ZipFixtureBuilder) throws -> [TensorInfo] {
  try TorchZipReader.readTensors(from: try mapTempFile(builder.bytes()))
}

@Suite struct TorchZipStructureTests {
  /// Short name for the pickle assembler inside this suite.
  private typealias P = Pkl

  @Test func namesComeFromTheRootDictAndIgnoreOtherValues() throws {
    let pickle = P.stateDict([("w", P.tensor()), ("step", P.int(3)), ("note", P.string("x"))])
    let tensors = try readTorch(torchArchive(pickle))
    #expect(tensors.map(\.name) == ["w"])
    #expect(tensors.first?.file.hasSuffix("archive.pt") == true)
  }

  @Test func unwrapsOneStateDictWrapper() throws {
    let inner = P.emptyDict + P.mark + P.string("fc.weight") + P.tensor() + P.op(.setItems)
    let pickle = P.stateDict([("epoch", P.int(1)), ("model", inner)])
    #expect(try readTorch(torchArchive(pickle)).map(\.name) == ["fc.weight"])
  }

  @Test func emptyStateDictHasNoTensors() throws {
    #expect(try readTorch(torchArchive(P.stateDict([]))).isEmpty)
  }

  @Test func absentByteorderMeansLittleEndian() throws {
    let tensors = try readTorch(torchArchive(P.stateDict([("w", P.tensor())]), byteorder: nil))
    guard case .contiguous? = tensors.first?.layout else {
      Issue.record("expected a contiguous little-endian layout: \(tensors)")
      return
    }
  }

  static let refusals: [(String, ZipFixtureBuilder, CheckpointError.Kind, String)] = [
    ("root list", torchArchive(P.proto() + P.emptyList + P.stop),
     .unsupported, "data.pkl holds a list, not a dict of tensors"),
    ("nested next to flat", torchArchive(P.stateDict([
      ("w", P.tensor()),
      ("opt", P.emptyDict + P.mark + P.string("m") + P.tensor() + P.op(.setItems)),
    ])), .unsupported, "tensors nested under 'opt' are not supported"),
    ("two wrappers", torchArchive(P.stateDict([
      ("model", P.emptyDict + P.mark + P.string("a") + P.tensor() + P.op(.setItems)),
      ("ema", P.emptyDict + P.mark + P.string("a") + P.tensor() + P.op(.setItems)),
    ])), .unsupported, "tensors nested under 'model', 'ema' are not supported"),
    ("tensor list", torchArchive(P.stateDict([("layers", P.emptyList + P.tensor() + P.op(.append))])),
     .unsupported, "tensors nested under 'layers'"),
    ("int key", torchArchive(P.proto() + P.emptyDict + P.int(1) + P.tensor() + P.op(.setItem) + P.stop),
     .unsupported, "state dict has a non-string key 1"),
    ("view outside storage", torchArchive(P.stateDict([("w", P.tensor(offset: 1, size: [2], stride: [5]))])),
     .malformed, "view (offset 1, size [2], stride [5]) reaches element 6 of storage '0', which has 6"),
    ("empty view past end", torchArchive(P.stateDict([("w", P.tensor(offset: 7, size: [0], stride: [1]))])),
     .malformed, "starts past the end of storage '0' (6 elements)"),
    ("byteorder", torchArchive(P.stateDict([]), byteorder: "middle"),
     .malformed, "'t/byteorder' must be 'little' or 'big'"),
    ("extra pickle",
     torchArchive(P.stateDict([]), extra: [("t/evil.pkl", P.proto() + P.emptyDict + P.stop)]),
     .refused, "unexpected pickle 't/evil.pkl'"),
    ("outside folder", torchArchive(P.stateDict([]), extra: [("u/data/1", [1])]),
     .malformed, "zip entry 'u/data/1' is outside the archive folder 't/'"),
    ("torchscript code", torchArchive(P.stateDict([]), extra: [("t/code/__torch__.py", [1])]),
     .unsupported, "TorchScript archive (torch.jit.save; has 't/code/__torch__.py') is not supported"),
  ]

  @Test(arguments: refusals.indices)
  func refusesBadStructure(index: Int) throws {
    let (label, builder, kind, message) = Self.refusals[index]
    let error = caughtError { _ = try readTorch(builder) }
    #expect(error?.kind == kind, "\(label): \(String(describing: error))")
    #expect(error?.reason.contains(message) == true, "\(label): \(String(describing: error))")
  }

  @Test func viewErrorsNameTheTensor() throws {
    let builder = torchArchive(P.stateDict([("bad", P.tensor(size: [3, 3]))]))
    let error = caughtError { _ = try readTorch(builder) }
    #expect(error?.tensor == "bad")
    #expect(error?.reason.contains("(data.pkl offset 0x") == true)
  }

  @Test func missingPickleAndMissingFolderAreReported() throws {
    var noPickle = ZipFixtureBuilder()
    noPickle.add("t/data/0", [1])
    #expect(caughtError { _ = try readTorch(noPickle) }?.reason == "zip archive has no 't/data.pkl' record")
    var noFolder = ZipFixtureBuilder()
    noFolder.add("data.pkl", P.stateDict([]))
    let error = caughtError { _ = try readTorch(noFolder) }
    #expect(error?.reason.contains("is not inside a top-level folder") == true)
  }

  @Test func contiguityIgnoresUnitDimensions() {
    #expect(TorchZipReader.isContiguous(shape: [2, 3], strides: [3, 1]))
    #expect(TorchZipReader.isContiguous(shape: [1, 3, 1], strides: [99, 1, 7]))
    #expect(!TorchZipReader.isContiguous(shape: [3, 2], strides: [1, 3]))
    #expect(!TorchZipReader.isContiguous(shape: [2, 3], strides: [0, 1]))
    #expect(TorchZipReader.isContiguous(shape: [], strides: []))
  }
}

/// The draft checkpoints of the shared fixtures (scripts/make_fixtures.py) that are torch.save
/// zips, checked against their `Fixtures/expected/<case>.json` digests.
@Suite struct TorchZipSharedFixtureTests {
  struct Expected: Decodable, Sendable {
    struct Tensor: Decodable, Sendable {
      var dtype: String
      var shape: [Int]
      var file: String
      var sha256: String
    }
    var tensors: [String: Tensor]
  }

  /// (case, weights file) for every weights file that starts with a zip local header.
  static let zipFiles: [String] = {
    let root = TorchFixtures.packageRoot.appendingPathComponent("Fixtures")
    let expected = root.appendingPathComponent("expected")
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: expected.path) else { return [] }
    var out: [String] = []
    for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix("_") {
      let caseName = String(name.dropLast(5))
      let directory = root.appendingPathComponent(caseName)
      for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
        let path = directory.appendingPathComponent(file).path
        guard let handle = FileHandle(forReadingAtPath: path) else { continue }
        let magic = handle.readData(ofLength: 4)
        try? handle.close()
        if magic == Data([0x50, 0x4B, 0x03, 0x04]) { out.append(caseName + "/" + file) }
      }
    }
    return out.sorted()
  }()

  @Test func theSharedFixturesHaveTorchZips() {
    #expect(Self.zipFiles.contains("eagle1-bin/pytorch_model.bin"))
    #expect(Self.zipFiles.contains("eagle3-bin/pytorch_model.bin"))
  }

  @Test(arguments: zipFiles)
  func readsTheSharedDraftFixtures(relativePath: String) throws {
    let root = TorchFixtures.packageRoot.appendingPathComponent("Fixtures")
    let caseName = String(relativePath.prefix { $0 != "/" })
    let fileName = String(relativePath.dropFirst(caseName.count + 1))
    let data = try Data(contentsOf: root.appendingPathComponent("expected/\(caseName).json"))
    let expected = try JSONDecoder().decode(Expected.self, from: data).tensors
      .filter { $0.value.file == fileName }
    let path = root.appendingPathComponent(relativePath).path
    let tensors = try TorchZipReader.readTensors(from: try MappedFile(path: path))
    #expect(Set(tensors.map(\.name)) == Set(expected.keys))
    let reader = TensorReader()
    for tensor in tensors {
      let want = try #require(expected[tensor.name])
      #expect(tensor.dtype.rawValue == want.dtype, "\(relativePath) \(tensor.name)")
      #expect(tensor.shape == want.shape, "\(relativePath) \(tensor.name)")
      let digest = try reader.bytes(of: tensor).withUnsafeBytes { try SHA256Hasher.hex(of: $0) }
      #expect(digest == want.sha256, "\(relativePath) \(tensor.name)")
    }
  }
}
