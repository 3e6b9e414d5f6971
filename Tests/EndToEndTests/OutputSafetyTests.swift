import Foundation
import Inspect
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// What `speculators convert` leaves at its output path when it is killed, runs out of file
/// size, or races another convert: always either the previous state or one complete output
/// (every file the manifest lists, with its size and SHA-256, and nothing else), and the input
/// is never modified.
@Suite("output safety", .serialized)
struct OutputSafetyTests {
  /// Where `convert` is killed: after a fixed delay, or once the run reaches a phase seen in
  /// the file system (its temporary sibling exists; its weights file passed a size; its
  /// manifest was written, just before the rename; the output path changed, while the old
  /// output is being deleted).
  enum KillPoint: CustomStringConvertible {
    case after(milliseconds: Int)
    case whenTemporaryExists
    case whenTemporaryWeightsReach(bytes: Int)
    case whenTemporaryHas(String)
    case whenOutputReplaced

    var description: String {
      switch self {
      case .after(let milliseconds): return "after \(milliseconds) ms"
      case .whenTemporaryExists: return "once the temporary directory exists"
      case .whenTemporaryWeightsReach(let bytes): return "once the temporary weights reach \(bytes) bytes"
      case .whenTemporaryHas(let name): return "once the temporary directory holds \(name)"
      case .whenOutputReplaced: return "once the new output is at the output path"
      }
    }
  }

  @Test("kill -9 at several points: the output path holds the previous state or a complete output")
  func killedConvert() throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let (draft, verifier) = try LargeDraft.write(in: work)
    let inputs = try Snapshot(draft.path).files.merging(try Snapshot(verifier.path).files) { a, _ in a }
    let parent = work.appendingPathComponent("outputs")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    let output = parent.appendingPathComponent("out")
    let arguments = [
      "convert", draft.path, "--algorithm", "eagle3", "--verifier", verifier.path, "--output-path", output.path,
      "--force",
    ]
    let points: [KillPoint] = [
      .after(milliseconds: 0), .after(milliseconds: 2), .after(milliseconds: 10), .after(milliseconds: 30),
      .after(milliseconds: 100), .after(milliseconds: 300), .whenTemporaryExists,
      .whenTemporaryWeightsReach(bytes: 1 << 20), .whenTemporaryWeightsReach(bytes: 8 << 20),
      .whenTemporaryHas("config.json"), .whenTemporaryHas(AuditManifest.fileName), .whenOutputReplaced,
      .whenOutputReplaced, .after(milliseconds: 1000), .after(milliseconds: 2000),
    ]
    var leftBehind = 0
    for (round, point) in points.enumerated() {
      // Odd rounds start from a previous complete output (float16, so it differs from the new one).
      try? FileManager.default.removeItem(at: output)
      if round % 2 == 1 {
        let previous = try runToCompletion(arguments + ["--dtype", "float16"])
        #expect(previous.status == 0, "\(previous.stderr)")
      }
      let before = try Snapshot(output.path)
      try runAndKill(
        arguments, at: point, temporaryPrefix: parent.appendingPathComponent(".out.tmp-").path, output: output)
      let after = try Snapshot(output.path)
      let complete = OutputCheck.isComplete(output)
      #expect(after == before || complete, "killed \(point): the output is neither the previous state nor complete")
      if !before.files.isEmpty && after != before {
        #expect(complete, "killed \(point): a previous output was replaced by an incomplete one")
      }
      let names = try FileManager.default.contentsOfDirectory(atPath: parent.path)
      if names.contains(where: { $0.hasPrefix(".out.tmp-") || $0.hasPrefix(".out.old-") }) { leftBehind += 1 }
    }
    // Kills that land while files are being written leave the temporary sibling behind…
    #expect(leftBehind > 0, "no kill landed while the output was being written")
    // …which the next convert of the same output removes; verify looks at the output only.
    let clean = try runToCompletion(arguments)
    #expect(clean.status == 0, "\(clean.stderr)")
    #expect(OutputCheck.isComplete(output))
    let remaining = try FileManager.default.contentsOfDirectory(atPath: parent.path)
    #expect(remaining == ["out"], "left next to the output: \(remaining)")
    let verify = try runToCompletion(["verify", output.path, "--verifier", verifier.path, "--manifest"])
    #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    // The input was only ever read.
    let inputsAfter = try Snapshot(draft.path).files.merging(try Snapshot(verifier.path).files) { a, _ in a }
    #expect(inputsAfter == inputs)
  }

  @Test("a file-size limit (ulimit -f) is reported, cleaned up, and leaves a previous output alone")
  func fileSizeLimit() throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let draft = TestPaths.fixtures.appendingPathComponent("eagle3-embed").path
    let verifier = TestPaths.fixtures.appendingPathComponent("verifier").path
    let inputs = try Snapshot(draft).files.merging(try Snapshot(verifier).files) { a, _ in a }
    let output = work.appendingPathComponent("out")
    let arguments = [
      "convert", draft, "--algorithm", "eagle3", "--verifier", verifier, "--output-path", output.path, "--force",
    ]
    let first = try runToCompletion(arguments + ["--dtype", "float16"])
    #expect(first.status == 0, "\(first.stderr)")
    let previous = try Snapshot(output.path)
    // 64 KiB: the weights (~200 KB) cannot be written.
    let limited = try runToCompletion(arguments, fileSizeLimitKiB: 64)
    #expect(limited.status == 2)
    #expect(limited.stderr.split(separator: "\n").count == 1, "\(limited.stderr)")
    #expect(limited.stderr.contains("File too large"), "\(limited.stderr)")
    #expect(try Snapshot(output.path) == previous)
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == ["out"])
    let inputsAfter = try Snapshot(draft).files.merging(try Snapshot(verifier).files) { a, _ in a }
    #expect(inputsAfter == inputs)
  }

  @Test("two converts into one output path never interleave", arguments: [false, true])
  func concurrentConverts(force: Bool) throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let (draft, verifier) = try LargeDraft.write(in: work, vocabulary: 32_768)
    let parent = work.appendingPathComponent("outputs")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    let output = parent.appendingPathComponent("out")
    for _ in 0..<3 {
      try? FileManager.default.removeItem(at: output)
      // Different dtypes, so the two outputs differ in every weights byte.
      let runs = try ["float16", "float32"].map { dtype in
        try startConvert(
          ["convert", draft.path, "--algorithm", "eagle3", "--verifier", verifier.path, "--output-path", output.path,
           "--dtype", dtype] + (force ? ["--force"] : []))
      }
      let results = runs.map { $0.finish() }
      #expect(results.contains { $0.status == 0 }, "\(results.map(\.stderr))")
      for result in results where result.status != 0 {
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(
          result.stderr.contains("another convert is writing this output")
            || result.stderr.contains("the output directory exists and is not empty"), "\(result.stderr)")
      }
      #expect(OutputCheck.isComplete(output), "the output is not one complete conversion")
      #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["out"])
    }
  }

  // MARK: - Running convert

  private func runToCompletion(_ arguments: [String], fileSizeLimitKiB: Int? = nil) throws -> CommandResult {
    try startConvert(arguments, fileSizeLimitKiB: fileSizeLimitKiB).finish()
  }

  private func runAndKill(_ arguments: [String], at point: KillPoint, temporaryPrefix: String, output: URL) throws {
    func identity() -> String? {
      var info = stat()
      return lstat(output.path, &info) == 0 ? "\(info.st_dev):\(info.st_ino)" : nil
    }
    let initialIdentity = identity()
    let run = try startConvert(arguments)
    let pid = run.process.processIdentifier
    let parent = (temporaryPrefix as NSString).deletingLastPathComponent
    let prefix = (temporaryPrefix as NSString).lastPathComponent
    func temporaryDirectory() -> String? {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
      return names.first { $0.hasPrefix(prefix) }.map { parent + "/" + $0 }
    }
    /// Polls (every 0.5 ms) until `reached` or the process ends.
    func wait(until reached: () -> Bool) {
      while run.process.isRunning && !reached() { usleep(500) }
    }
    switch point {
    case .after(let milliseconds):
      if milliseconds > 0 { usleep(UInt32(milliseconds * 1000)) }
    case .whenTemporaryExists:
      wait { temporaryDirectory() != nil }
    case .whenTemporaryWeightsReach(let bytes):
      wait {
        guard let directory = temporaryDirectory() else { return false }
        let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/model.safetensors"))?[.size]
        return ((size as? NSNumber)?.intValue ?? 0) >= bytes
      }
    case .whenTemporaryHas(let name):
      wait { temporaryDirectory().map { FileManager.default.fileExists(atPath: $0 + "/" + name) } ?? false }
    case .whenOutputReplaced:
      wait { identity().map { $0 != initialIdentity } ?? false }
    }
    kill(pid, SIGKILL)
    _ = run.finish()
  }

  /// A running `speculators` process whose output goes to files (no pipes to drain).
  struct RunningCommand {
    let process: Process
    let stdout: URL
    let stderr: URL

    func finish() -> CommandResult {
      process.waitUntilExit()
      let out = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
      let err = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
      try? FileManager.default.removeItem(at: stdout)
      try? FileManager.default.removeItem(at: stderr)
      return CommandResult(status: process.terminationStatus, stdout: out, stderr: err)
    }
  }

  private func startConvert(_ arguments: [String], fileSizeLimitKiB: Int? = nil) throws -> RunningCommand {
    let process = speculatorsProcess(arguments, fileSizeLimitBlocks: fileSizeLimitKiB)
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    process.environment = environment
    let logs = FileManager.default.temporaryDirectory
    let stdout = logs.appendingPathComponent("convert-\(UUID().uuidString).out")
    let stderr = logs.appendingPathComponent("convert-\(UUID().uuidString).err")
    FileManager.default.createFile(atPath: stdout.path, contents: nil)
    FileManager.default.createFile(atPath: stderr.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: stdout)
    process.standardError = try FileHandle(forWritingTo: stderr)
    try process.run()
    return RunningCommand(process: process, stdout: stdout, stderr: stderr)
  }
}

/// Whether a directory is one complete conversion: it opens as a checkpoint, and holds exactly
/// the files its manifest lists (plus the manifest), each with the listed size and SHA-256.
enum OutputCheck {
  static func isComplete(_ directory: URL) -> Bool {
    guard (try? CheckpointReader.open(directory.path)) != nil,
      let data = FileManager.default.contents(atPath: directory.appendingPathComponent(AuditManifest.fileName).path),
      let manifest = try? StrictJSONParser.parse(Array(data)),
      let files = manifest["files"]?.arrayValue,
      let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
    else { return false }
    var listed: Set<String> = [AuditManifest.fileName]
    for file in files {
      guard let name = file["name"]?.stringValue, let size = file["size"]?.intValue,
        let digest = file["sha256"]?.stringValue,
        let bytes = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path),
        bytes.count == size, (try? bytes.withUnsafeBytes({ try SHA256Hasher.hex(of: $0) })) == digest
      else { return false }
      listed.insert(name)
    }
    return Set(names) == listed
  }
}

/// A larger EAGLE-3 draft (SpecForge layout, as `Fixtures/eagle3-embed`, with a bigger
/// vocabulary so the weights are tens of MB) and a matching config-only verifier.
enum LargeDraft {
  static func write(in directory: URL, vocabulary: Int = 131_072, draftVocabulary: Int = 16_384) throws
    -> (draft: URL, verifier: URL)
  {
    let fixture = TestPaths.fixtures.appendingPathComponent("eagle3-embed")
    let header = try SafetensorsReader.readHeader(
      from: try MappedFile(path: fixture.appendingPathComponent("model.safetensors").path))
    var entries: [(name: String, dtype: DType, shape: [Int])] = []
    for tensor in header.tensors.sorted(by: { $0.name < $1.name }) {
      var shape = tensor.shape
      switch tensor.name {
      case "embed_tokens.weight", "t2d": shape[0] = vocabulary
      case "lm_head.weight", "d2t": shape[0] = draftVocabulary
      default: break
      }
      entries.append((tensor.name, tensor.dtype, shape))
    }
    var json: [String] = [#""__metadata__":{"format":"pt"}"#]
    var offset = 0
    for entry in entries {
      let length = entry.shape.reduce(1, *) * (entry.dtype.bytesPerElement ?? 1)
      json.append(
        "\"\(entry.name)\":{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":\(entry.shape),"
          + "\"data_offsets\":[\(offset),\(offset + length)]}")
      offset += length
    }
    var headerBytes = Array(("{" + json.joined(separator: ",") + "}").utf8)
    headerBytes += Array(repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
    var file = Data()
    file.append(contentsOf: withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { Array($0) })
    file.append(contentsOf: headerBytes)
    for entry in entries {
      let count = entry.shape.reduce(1, *)
      switch entry.name {
      case "d2t":  // draft id i is target id i
        file.append(Data(count: count * 8))
      case "t2d":
        file.append(Data(repeating: 1, count: draftVocabulary))
        file.append(Data(count: count - draftVocabulary))
      default:  // small bf16 values of both signs (never NaN, never all ones)
        var values = [UInt8]()
        values.reserveCapacity(count * 2)
        for index in 0..<count {
          let bits = UInt16(0x3C00 + (index * 37) % 512) | (index % 3 == 0 ? 0x8000 : 0)
          values.append(UInt8(bits & 0xFF))
          values.append(UInt8(bits >> 8))
        }
        file.append(contentsOf: values)
      }
    }
    let draft = directory.appendingPathComponent("draft")
    let verifier = directory.appendingPathComponent("verifier")
    for target in [draft, verifier] {
      try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
    }
    try file.write(to: draft.appendingPathComponent("model.safetensors"))
    let draftConfig = try StrictJSONParser.parse(Array(Data(contentsOf: fixture.appendingPathComponent("config.json"))))
      .setting("vocab_size", to: .int(Int64(vocabulary)))
      .setting("draft_vocab_size", to: .int(Int64(draftVocabulary)))
    try Data((JSONWriter.pretty(draftConfig) + "\n").utf8).write(to: draft.appendingPathComponent("config.json"))
    let verifierConfig = try StrictJSONParser.parse(
      Array(Data(contentsOf: TestPaths.fixtures.appendingPathComponent("verifier/config.json")))
    ).setting("vocab_size", to: .int(Int64(vocabulary)))
    try Data((JSONWriter.pretty(verifierConfig) + "\n").utf8).write(to: verifier.appendingPathComponent("config.json"))
    return (draft, verifier)
  }
}
