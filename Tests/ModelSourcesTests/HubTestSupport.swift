import Foundation
import Testing

@testable import ModelSources
import Inspect

/// A request the Hub emulator logged.
struct LoggedRequest {
  var server: String
  var method: String
  var path: String
  var headers: [String: String]
}

/// Runs `Tests/Support/hub_server.py` on 127.0.0.1 for one test: a Hub-shaped endpoint and a
/// separate CDN host, serving repositories written into a temporary directory.
final class HubEmulator {
  let endpoint: String
  let cdn: String
  let workspace: URL
  private let logURL: URL
  private let process: Process
  private let input: Pipe

  /// `repos`: `org/name` → file name → bytes; `staticFiles`: path under `/files/` → bytes.
  init(
    repos: [String: [String: [UInt8]]], staticFiles: [String: [UInt8]] = [:], arguments: [String] = []
  ) throws {
    workspace = FileManager.default.temporaryDirectory.appendingPathComponent("hub-tests-\(UUID().uuidString)")
    let root = workspace.appendingPathComponent("repos")
    let staticRoot = workspace.appendingPathComponent("static")
    for (repo, files) in repos {
      for (name, bytes) in files { try Self.write(bytes, to: root.appendingPathComponent(repo + "/" + name)) }
    }
    try FileManager.default.createDirectory(at: staticRoot, withIntermediateDirectories: true)
    for (name, bytes) in staticFiles { try Self.write(bytes, to: staticRoot.appendingPathComponent(name)) }
    logURL = workspace.appendingPathComponent("requests.jsonl")

    process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
      ["python3", Self.script.path, "--root", root.path, "--static", staticRoot.path, "--log", logURL.path]
      + arguments
    input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    let ports = try JSONSerialization.jsonObject(with: line) as? [String: String]
    endpoint = try #require(ports?["endpoint"])
    cdn = try #require(ports?["cdn"])
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.terminate()
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: workspace)
  }

  /// Options pointing at this emulator, with caches inside the test's workspace.
  func options(token: String? = nil, offline: Bool = false, maxAttempts: Int = 3) -> HubOptions {
    HubOptions(
      endpoint: endpoint, cacheDirectory: cacheDirectory, urlCacheDirectory: workspace.path + "/urls",
      token: token, offline: offline, maxAttempts: maxAttempts, timeout: 20, progress: .silent)
  }

  /// The Hugging Face cache directory the options use.
  var cacheDirectory: String { workspace.path + "/hf-cache" }

  /// Every request either server received since the last ``clearLog()``.
  func requests() throws -> [LoggedRequest] {
    guard let data = FileManager.default.contents(atPath: logURL.path) else { return [] }
    return try data.split(separator: UInt8(ascii: "\n")).map { line in
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
      return LoggedRequest(
        server: object["server"] as? String ?? "", method: object["method"] as? String ?? "",
        path: object["path"] as? String ?? "", headers: object["headers"] as? [String: String] ?? [:])
    }
  }

  /// Forgets the requests logged so far.
  func clearLog() {
    try? FileManager.default.removeItem(at: logURL)
  }

  private static let script: URL = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    return url.appendingPathComponent("Support/hub_server.py")
  }()

  private static func write(_ bytes: [UInt8], to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
  }
}

/// Deterministic pseudo-random bytes (so LFS files are big enough to cut mid-way).
func fakeWeights(_ count: Int, seed: UInt64) -> [UInt8] {
  var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  return (0..<count).map { _ in
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return UInt8(truncatingIfNeeded: state)
  }
}

/// SHA-256 hex of `bytes`.
func sha256Hex(_ bytes: [UInt8]) -> String {
  bytes.withUnsafeBytes { SHA256Hasher.hex(of: $0) }
}

/// The bytes of the file at `path` (following symlinks).
func contents(_ path: String) -> [UInt8]? {
  FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

/// A small model repository: config.json and one safetensors-named weights file.
let singleFileRepo: [String: [UInt8]] = [
  "config.json": Array(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}"#.utf8),
  "model.safetensors": fakeWeights(300_000, seed: 1),
  "README.md": Array("# test model\n".utf8),
]

/// A sharded verifier-like repository whose embeddings sit in the first shard.
let shardedRepo: [String: [UInt8]] = [
  "config.json": Array(#"{"architectures": ["LlamaForCausalLM"], "vocab_size": 512}"#.utf8),
  "model.safetensors.index.json": Array(
    #"""
    {"metadata": {"total_size": 300000}, "weight_map": {
      "lm_head.weight": "model-00002-of-00002.safetensors",
      "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
      "model.norm.weight": "model-00002-of-00002.safetensors"}}
    """#.utf8),
  "model-00001-of-00002.safetensors": fakeWeights(150_000, seed: 2),
  "model-00002-of-00002.safetensors": fakeWeights(150_000, seed: 3),
]
