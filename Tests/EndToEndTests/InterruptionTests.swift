import Foundation
import Inspect
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A `speculators` process started with its output going to files (no pipes to drain).
struct StartedCommand {
  let process: Process
  let stdout: URL
  let stderr: URL

  init(_ arguments: [String]) throws {
    process = speculatorsProcess(arguments)
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    process.environment = environment
    process.currentDirectoryURL = TestPaths.packageRoot
    let logs = try TestPaths.temporaryDirectory()
    stdout = logs.appendingPathComponent("out")
    stderr = logs.appendingPathComponent("err")
    FileManager.default.createFile(atPath: stdout.path, contents: nil)
    FileManager.default.createFile(atPath: stderr.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: stdout)
    process.standardError = try FileHandle(forWritingTo: stderr)
    try process.run()
  }

  /// Waits for the exit; `signalled` is true when the process died of a signal.
  func finish() -> (result: CommandResult, signalled: Bool) {
    process.waitUntilExit()
    let out = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
    return (
      CommandResult(status: process.terminationStatus, stdout: out, stderr: err),
      process.terminationReason == .uncaughtSignal
    )
  }

  /// Polls every 0.5 ms until `reached` or the process ends; whether it is still running.
  func wait(until reached: () -> Bool) -> Bool {
    while process.isRunning && !reached() { usleep(500) }
    return process.isRunning
  }

  /// Whether the process has `path` mapped (its `/proc/<pid>/maps` names it).
  func maps(_ path: String) -> Bool {
    let maps = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/maps", encoding: .utf8)) ?? ""
    return maps.contains(path)
  }
}

/// A safetensors file holding one F16 tensor `x` of `elements` zeros.
func writeLargeSafetensors(_ url: URL, elements: Int) throws {
  var header = Array(#"{"x":{"dtype":"F16","shape":[\#(elements)],"data_offsets":[0,\#(elements * 2)]}}"#.utf8)
  header += Array(repeating: 0x20, count: (8 - header.count % 8) % 8)
  var file = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) })
  file.append(contentsOf: header)
  file.append(Data(count: elements * 2))
  try file.write(to: url)
}

/// Termination signals and inputs that change under the reader: what the run created is
/// removed, the exit status says what happened, and the process never dies of a signal.
@Suite("interruptions", .serialized)
struct InterruptionTests {
  @Test(
    "SIGINT, SIGTERM, SIGHUP and SIGQUIT mid-conversion remove the temporaries and lock; exit 128+signo",
    arguments: [SIGINT, SIGTERM, SIGHUP, SIGQUIT])
  func signalMidConversion(signal: Int32) throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let (draft, verifier) = try LargeDraft.write(in: work)
    let parent = work.appendingPathComponent("outputs")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    let output = parent.appendingPathComponent("out")
    var interrupted = 0
    for _ in 0..<6 where interrupted < 2 {
      try? FileManager.default.removeItem(at: output)
      let run = try StartedCommand([
        "convert", draft.path, "--algorithm", "eagle3", "--verifier", verifier.path, "--output-path", output.path,
        "--validate-device", "cpu",
      ])
      let running = run.wait { directoryNames(parent).contains { $0.hasPrefix(".out.tmp-") } }
      if running { kill(run.process.processIdentifier, signal) }
      let (result, signalled) = run.finish()
      #expect(!signalled, "died of a signal: \(result.stderr)")
      if result.status == 0 {
        #expect(OutputCheck.isComplete(output))
        continue
      }
      interrupted += 1
      #expect(result.status == 128 + signal, "\(result.stderr)")
      #expect(directoryNames(parent).isEmpty, "left behind: \(directoryNames(parent))")
    }
    #expect(interrupted > 0, "no run was interrupted before it finished")
  }

  @Test("hash and diff of a file truncated while it is read: one line, exit 2, no signal")
  func truncatedWhileHashing() throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let file = work.appendingPathComponent("big.safetensors")
    let other = work.appendingPathComponent("other.safetensors")
    try writeLargeSafetensors(other, elements: 1 << 20)
    var guarded = 0
    for (attempt, command) in [["hash"], ["diff", other.path], ["hash"], ["diff", other.path], ["hash"], ["hash"]]
      .enumerated()
    {
      try writeLargeSafetensors(file, elements: 64 << 20)
      let arguments = command[0] == "hash" ? ["hash", file.path] : ["diff", other.path, file.path]
      let run = try StartedCommand(arguments)
      if run.wait(until: { run.maps(file.path) }) {
        if attempt % 2 == 1 { usleep(20_000) }
        truncate(file.path, 4096)
      }
      let (result, signalled) = run.finish()
      #expect(!signalled, "\(command[0]) died of a signal: \(result.stderr)")
      #expect([0, 1, 2].contains(result.status), "\(result.stderr)")
      if result.status == 2 {
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(file.path), "\(result.stderr)")
      }
      if result.stderr.contains("the file changed while being read") { guarded += 1 }
    }
    #expect(guarded > 0, "no run read the truncated pages")
  }

  @Test("convert of a draft truncated while it is read: exit 2, no temporaries left")
  func truncatedWhileConverting() throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let parent = work.appendingPathComponent("outputs")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    for attempt in 0..<4 {
      let inputs = work.appendingPathComponent("in\(attempt)")
      try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
      let (draft, verifier) = try LargeDraft.write(in: inputs)
      let weights = draft.appendingPathComponent("model.safetensors").path
      let output = parent.appendingPathComponent("out")
      let run = try StartedCommand([
        "convert", draft.path, "--algorithm", "eagle3", "--verifier", verifier.path, "--output-path", output.path,
      ])
      if run.wait(until: { directoryNames(parent).contains { $0.hasPrefix(".out.tmp-") } }) {
        truncate(weights, 4096)
      }
      let (result, signalled) = run.finish()
      #expect(!signalled, "died of a signal: \(result.stderr)")
      if result.status == 0 {
        try FileManager.default.removeItem(at: output)
        continue
      }
      #expect(result.status == 2, "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      #expect(directoryNames(parent).isEmpty, "left behind: \(directoryNames(parent))")
    }
  }

  @Test("an early convert error never races the source-hashing thread into a crash (200 runs)")
  func earlyErrorRace() throws {
    let work = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    let (draft, verifier) = try LargeDraft.write(in: work)
    // fc.weight stored as F64 (zeros): `--dtype float32` then fails as the writer starts,
    // while the source files are being hashed.
    let weights = draft.appendingPathComponent("model.safetensors")
    let header = try SafetensorsReader.readHeader(from: try MappedFile(path: weights.path))
    var json: [String] = []
    var offset = 0
    for tensor in header.tensors.sorted(by: { $0.name < $1.name }) {
      let dtype = tensor.name == "fc.weight" ? "F64" : tensor.dtype.rawValue
      let length = tensor.shape.reduce(1, *) * (tensor.name == "fc.weight" ? 8 : tensor.dtype.bytesPerElement ?? 1)
      json.append("\"\(tensor.name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(tensor.shape),\"data_offsets\":[\(offset),\(offset + length)]}")
      offset += length
    }
    var headerBytes = Array(("{" + json.joined(separator: ",") + "}").utf8)
    headerBytes += Array(repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
    var file = Data(withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { Array($0) })
    file.append(contentsOf: headerBytes)
    file.append(Data(count: offset))
    try file.write(to: weights)
    let parent = work.appendingPathComponent("outputs")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    var failures: [String] = []
    for _ in 0..<200 {
      let result = try runSpeculators([
        "convert", draft.path, "--algorithm", "eagle3", "--verifier", verifier.path, "--output-path",
        parent.appendingPathComponent("out").path, "--dtype", "float32", "--drop-unknown",
      ])
      if result.status != 2 || result.stderr.split(separator: "\n").count != 1 {
        failures.append("exit \(result.status): \(result.stderr)")
      }
    }
    #expect(failures.isEmpty, "\(failures.count) of 200 runs: \(failures.prefix(3))")
    #expect(directoryNames(parent).isEmpty)
  }
}
