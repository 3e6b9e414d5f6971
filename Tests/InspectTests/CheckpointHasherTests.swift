import Foundation
import Synchronization
import Testing

@testable import Inspect

@Suite struct CheckpointHasherTests {
  @Test func fileDigestEqualsSha256sumAcrossChunkBoundaries() throws {
    let directory = try HashingTestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // Larger than one 16 MiB hashing chunk, not a multiple of it.
    var bytes = [UInt8](repeating: 0, count: (16 << 20) + 12345)
    var state: UInt32 = 7
    for i in bytes.indices {
      state = state &* 1_664_525 &+ 1_013_904_223
      bytes[i] = UInt8(truncatingIfNeeded: state >> 24)
    }
    let big = directory.appendingPathComponent("big.bin")
    try Data(bytes).write(to: big)
    let empty = directory.appendingPathComponent("empty")
    try Data().write(to: empty)
    #expect(try CheckpointHasher.sha256(ofFile: big.path) == HashingTestSupport.sha256sum(big))
    #expect(
      try CheckpointHasher.sha256(ofFile: empty.path)
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func sha256OfBytesMatchesTheStandardVectors() throws {
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    #expect(try SHA256Hasher.hex(of: Array("abc".utf8), for: "abc") == abc)
    #expect(try Array("abc".utf8).withUnsafeBytes { try SHA256Hasher.hex(of: $0) } == abc)
    var streamed = try SHA256Hasher(for: "streamed")
    for piece in ["a", "", "bc"] { Array(piece.utf8).withUnsafeBytes { streamed.update($0) } }
    #expect(streamed.finalizeHex() == abc)
    #expect(try SHA256Hasher.hex(of: [], for: "empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func fileDigestsAreKeyedByPathAndMatchSha256sum() throws {
    let verifier = HashingTestSupport.fixtures.appendingPathComponent("verifier")
    let paths = try FileManager.default.contentsOfDirectory(atPath: verifier.path).map {
      verifier.appendingPathComponent($0)
    }
    let digests = try CheckpointHasher.fileDigests(paths.map(\.path) + [paths[0].path])
    #expect(digests.count == paths.count)
    for url in paths {
      #expect(digests[url.path] == (try HashingTestSupport.sha256sum(url)))
    }
  }

  @Test func xxh3FileDigestEqualsXxhsumAcrossChunkBoundaries() throws {
    let directory = try HashingTestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // Larger than one 16 MiB hashing chunk and not a multiple of XXH3's 1 KiB stripe block.
    let bytes = Data((0..<((16 << 20) + 4099)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
    let big = directory.appendingPathComponent("big.bin")
    try bytes.write(to: big)
    let digest = try CheckpointHasher.digest(ofFile: big.path, algorithm: .xxh3)
    #expect(digest == (try HashingTestSupport.xxhsum128(bytes)))
    #expect(digest != (try CheckpointHasher.digest(ofFile: big.path, algorithm: .sha256)))
    let paths = [big.path]
    #expect(try CheckpointHasher.fileDigests(paths, algorithm: .xxh3) == [big.path: digest])
  }

  @Test func missingFileIsAnErrorNamingIt() {
    #expect {
      try CheckpointHasher.fileDigests(["/nonexistent/a.safetensors"])
    } throws: { error in
      (error as? CheckpointError)?.file == "/nonexistent/a.safetensors"
        && (error as? CheckpointError)?.kind == .notFound
    }
  }

  @Test(arguments: ["eagle3-embed", "eagle-safetensors", "eagle3-2layer", "reference/eagle3-bin", "verifier"])
  func tensorDigestsEqualTheFixtureGroundTruth(case name: String) throws {
    let directory = HashingTestSupport.fixtures.appendingPathComponent(name)
    let checkpoint = try HashingTestSupport.checkpoint(directory: directory)
    let expectedURL = HashingTestSupport.fixtures.appendingPathComponent("expected/\(name).json")
    let expected = try StrictJSONParser.parse(Array(Data(contentsOf: expectedURL)))
    let digests = try CheckpointHasher.tensorDigests(checkpoint, reader: TensorReader())
    let table = try #require(expected["tensors"]?.objectMembers)
    #expect(digests.count == table.count)
    for (tensor, entry) in table {
      #expect(digests[tensor] == entry["xxh3_128"]?.stringValue, "\(name): \(tensor)")
    }
  }

  @Test func tensorDigestEqualsXxhsumOfTheRawBytes() throws {
    let file = HashingTestSupport.fixtures.appendingPathComponent("eagle3-embed/model.safetensors")
    let tensors = try HashingTestSupport.tensors(ofSafetensors: file)
    let data = try Data(contentsOf: file)
    let reader = TensorReader()
    for tensor in tensors.prefix(6) {
      guard case .contiguous(let offset, let length) = tensor.layout else { continue }
      let external = try HashingTestSupport.xxhsum128(data.subdata(in: offset..<offset + length))
      #expect(try CheckpointHasher.xxh3(of: tensor, reader: reader) == external, "\(tensor.name)")
    }
  }

  @Test func stridedViewHashesLikeItsDenseCopy() throws {
    let directory = try HashingTestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // A 3×4 F16 storage; the tensor is its transpose (4×3, strides [1, 4]).
    let storage: [UInt16] = (0..<12).map { UInt16(0x3C00 + $0) }
    var bytes = Data()
    for value in storage { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    let url = directory.appendingPathComponent("storage")
    try bytes.write(to: url)
    let view = TensorInfo(
      name: "t", dtype: .F16, shape: [4, 3], file: url.path,
      layout: .strided(
        storageOffset: 0, storageLength: 24, elementOffset: 0, strides: [1, 4], bigEndian: false))
    var dense = Data()
    for row in 0..<4 {
      for column in 0..<3 {
        withUnsafeBytes(of: storage[column * 4 + row].littleEndian) { dense.append(contentsOf: $0) }
      }
    }
    #expect(
      try CheckpointHasher.xxh3(of: view, reader: TensorReader()) == HashingTestSupport.xxhsum128(dense))
  }
}

@Suite struct HashReportTests {
  @Test func sha256sumAcceptsTheOutputFromTheCheckpointDirectory() throws {
    let directory = HashingTestSupport.fixtures.appendingPathComponent("verifier")
    let report = try HashReport.compute(checkpoint: HashingTestSupport.checkpoint(directory: directory))
    let scratch = try HashingTestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let sums = scratch.appendingPathComponent("SHA256SUMS")
    try Data(report.checksumText.utf8).write(to: sums)
    let (status, output) = try HashingTestSupport.run(
      "/usr/bin/sha256sum", ["-c", "--strict", sums.path], in: directory)
    #expect(status == 0)
    #expect(output.split(separator: "\n").count == report.files.count)
    #expect(output.contains("model-00001-of-00002.safetensors: OK"))
    #expect(report.checksumText.contains("# "))
    let expected = try StrictJSONParser.parse(
      Array(Data(contentsOf: HashingTestSupport.fixtures.appendingPathComponent("expected/verifier.json"))))
    #expect(report.tensors.count == expected["tensor_count"]?.intValue)
    #expect(
      report.checksumText.split(separator: "\n").filter { $0.hasPrefix("# ") }.count == report.tensors.count
        + 1)
  }

  @Test func xxhsumAcceptsXxh3FileLinesAndFilesOnlyLeavesTensorsOut() throws {
    let directory = HashingTestSupport.fixtures.appendingPathComponent("verifier")
    let report = try HashReport.compute(
      checkpoint: HashingTestSupport.checkpoint(directory: directory),
      selection: .init(fileAlgorithm: .xxh3, tensors: false))
    #expect(report.tensors.isEmpty)
    #expect(report.files.count == 5)
    #expect(report.files.allSatisfy { $0.digest.utf8.count == 32 })
    #expect(!report.checksumText.contains("#"))
    let (status, output) = try HashingTestSupport.run(
      "/usr/bin/xxhsum", ["-c", "--strict", "-"], in: directory, input: Data(report.checksumText.utf8))
    #expect(status == 0)
    #expect(output.split(separator: "\n").filter { $0.hasSuffix(": OK") }.count == 5)
    let json = report.json()
    #expect(json["file_digest"]?.stringValue == "xxh3_128")
    #expect(json["files"]?.arrayValue?.first?["sha256"] == nil)
    #expect(json["files"]?.arrayValue?.first?["xxh3_128"]?.stringValue == report.files.first?.digest)
  }

  @Test func tensorsOnlyHashesNoFileAndCountsOnlyTensorBytes() throws {
    let directory = HashingTestSupport.fixtures.appendingPathComponent("verifier")
    let checkpoint = try HashingTestSupport.checkpoint(directory: directory)
    let total = Mutex(0)
    let report = try HashReport.compute(checkpoint: checkpoint, selection: .init(files: false)) { update in
      total.withLock { $0 = update.bytesTotal ?? 0 }
    }
    #expect(report.files.isEmpty)
    #expect(report.tensors.count == checkpoint.tensors.count)
    #expect(total.withLock { $0 } == checkpoint.totalTensorBytes)
    #expect(report.checksumText.hasPrefix("# XXH3-128"))
  }

  @Test func sha256sumRejectsTheOutputAfterAByteFlip() throws {
    let scratch = try HashingTestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let copy = scratch.appendingPathComponent("draft")
    try FileManager.default.copyItem(
      at: HashingTestSupport.fixtures.appendingPathComponent("eagle3-embed"), to: copy)
    let report = try HashReport.compute(checkpoint: HashingTestSupport.checkpoint(directory: copy))
    let sums = scratch.appendingPathComponent("SHA256SUMS")
    try Data(report.checksumText.utf8).write(to: sums)
    let weights = copy.appendingPathComponent("model.safetensors")
    var bytes = try Data(contentsOf: weights)
    bytes[bytes.count - 1] ^= 0x80
    try bytes.write(to: weights)
    let (status, output) = try HashingTestSupport.run("/usr/bin/sha256sum", ["-c", sums.path], in: copy)
    #expect(status == 1)
    #expect(output.contains("model.safetensors: FAILED"))
  }

  @Test func progressCountsEveryFileAndTensorByteOnce() throws {
    let directory = HashingTestSupport.fixtures.appendingPathComponent("verifier")
    let checkpoint = try HashingTestSupport.checkpoint(directory: directory)
    let seen = Mutex<(calls: Int, last: Int, total: Int)>((0, 0, 0))
    _ = try HashReport.compute(checkpoint: checkpoint) { update in
      #expect(update.task == "hashing")
      seen.withLock { $0 = ($0.calls + 1, max($0.last, update.bytesDone), update.bytesTotal ?? 0) }
    }
    let fileBytes = checkpoint.files.reduce(0) { $0 + $1.size }
    let (calls, last, total) = seen.withLock { $0 }
    // Tensors lie inside the files: both are hashed, but each checkpoint byte counts once.
    #expect(total == fileBytes)
    #expect(last == total)
    #expect(calls >= checkpoint.files.count + checkpoint.tensors.count)
  }

  @Test func jsonListsFilesAndTensorsSortedWithDigests() throws {
    let directory = HashingTestSupport.fixtures.appendingPathComponent("eagle3-embed")
    let report = try HashReport.compute(checkpoint: HashingTestSupport.checkpoint(directory: directory))
    let json = report.json()
    let files = try #require(json["files"]?.arrayValue)
    #expect(files.compactMap { $0["name"]?.stringValue } == ["config.json", "model.safetensors"])
    #expect(
      files.last?["sha256"]?.stringValue == "576984ac852e69efab26b018e6e8ee32d811edfa9b7180439dac2f394c1af269"
    )
    let tensors = try #require(json["tensors"]?.arrayValue)
    let names = tensors.compactMap { $0["name"]?.stringValue }
    #expect(names == names.sorted())
    let d2t = try #require(tensors.first { $0["name"]?.stringValue == "d2t" })
    #expect(d2t["xxh3_128"]?.stringValue == "c8911a851e728c03d08291c65bae17e7")
    #expect(d2t["dtype"]?.stringValue == "I64")
    #expect(d2t["file"]?.stringValue == "model.safetensors")
  }

  @Test(arguments: [
    ("plain.json", "abc  plain.json"),
    ("back\\slash", "\\abc  back\\\\slash"),
    ("new\nline", "\\abc  new\\nline"),
  ])
  func checksumLinesEscapeLikeSha256sum(name: String, line: String) {
    #expect(HashReport.checksumLine(digest: "abc", name: name) == line)
  }

  @Test func escapedNameIsAcceptedBySha256sum() throws {
    let scratch = try HashingTestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let name = "odd\\name.json"
    try Data("{}".utf8).write(to: scratch.appendingPathComponent(name))
    let digest = try CheckpointHasher.sha256(ofFile: scratch.appendingPathComponent(name).path)
    let (status, output) = try HashingTestSupport.run(
      "/usr/bin/sha256sum", ["-c", "-"], in: scratch,
      input: Data((HashReport.checksumLine(digest: digest, name: name) + "\n").utf8))
    #expect(status == 0)
    #expect(output.contains("OK"))
  }
}
