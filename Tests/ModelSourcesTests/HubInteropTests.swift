import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

/// A Python that can import `huggingface_hub`: `SPECULATORS_HF_PYTHON`, else `python3` if it
/// has the package. CI's system Python does not, so these tests run where a developer has it.
enum HubInterop {
  static let python: String? = {
    let candidates = [ProcessInfo.processInfo.environment["SPECULATORS_HF_PYTHON"], "python3"].compactMap { $0 }
    return candidates.first { (try? run($0, ["-c", "import huggingface_hub"]).status) == 0 }
  }()

  static func run(_ python: String, _ arguments: [String], environment: [String: String] = [:]) throws
    -> (status: Int32, output: String)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python] + arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  static let script: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("scripts/check_hf_cache.py").path
  }()
}

@Suite("Interop with Python huggingface_hub", .enabled(if: HubInterop.python != nil))
struct HubInteropTests {
  @Test("a cache we wrote is read by scan_cache_dir and hf_hub_download(local_files_only=True)")
  func pythonReadsOurCache() throws {
    let python = try #require(HubInterop.python)
    let hub = try HubEmulator(repos: ["org/verifier": shardedRepo])
    let source = try SourceResolver.resolve("org/verifier", need: .checkpoint, options: hub.options())
    let shard = "model-00001-of-00002.safetensors"
    let digest = try sha256Hex(#require(shardedRepo[shard]))
    let result = try HubInterop.run(
      python,
      [HubInterop.script, "--cache-dir", hub.cacheDirectory, "--repo", "org/verifier"]
        + source.files.flatMap { ["--file", $0.name] } + ["--sha256", "\(shard)=\(digest)"])
    print(result.output)
    #expect(result.status == 0, "\(result.output)")
    #expect(result.output.contains("all checks passed"))
  }

  @Test("a cache huggingface_hub downloaded from the emulator is read by us offline")
  func weReadPythonsCache() throws {
    let python = try #require(HubInterop.python)
    let hub = try HubEmulator(repos: ["org/model": singleFileRepo])
    let code = """
      from huggingface_hub import hf_hub_download
      for name in ("config.json", "model.safetensors"):
          print(hf_hub_download("org/model", name, cache_dir=\(JSONWriter.quote(hub.cacheDirectory))))
      """
    let result = try HubInterop.run(
      python, ["-c", code], environment: ["HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"])
    #expect(result.status == 0, "\(result.output)")
    hub.clearLog()

    let source = try SourceResolver.resolve("org/model", need: .checkpoint, options: hub.options(offline: true))
    #expect(source.downloadedFiles.isEmpty)
    #expect(contents(source.path + "/model.safetensors") == singleFileRepo["model.safetensors"])
    #expect(try hub.requests().isEmpty)
  }
}
