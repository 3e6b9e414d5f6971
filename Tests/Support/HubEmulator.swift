import Foundation
import Inspect
import ModelSources

/// A request the Hub emulator logged.
public struct LoggedRequest: Sendable {
  public var server: String
  public var method: String
  public var path: String
  public var headers: [String: String]
}

/// The emulator did not start as expected.
public struct HubEmulatorError: Error, CustomStringConvertible {
  public var description: String
}

/// Runs `Tests/Support/hub_server.py` on 127.0.0.1 for one test: a Hub-shaped endpoint and a
/// separate CDN host, serving repositories written into a temporary directory.
public final class HubEmulator {
  public let endpoint: String
  public let cdn: String
  public let workspace: URL
  private let logURL: URL
  private let process: Process
  private let input: Pipe

  /// `repos`: `org/name` → file name → bytes; `staticFiles`: path under `/files/` → bytes.
  public init(
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
    guard let endpoint = ports?["endpoint"], let cdn = ports?["cdn"] else {
      throw HubEmulatorError(description: "hub_server.py printed no ports: \(String(decoding: line, as: UTF8.self))")
    }
    self.endpoint = endpoint
    self.cdn = cdn
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.terminate()
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: workspace)
  }

  /// Options pointing at this emulator, with caches inside the test's workspace.
  public func options(
    token: String? = nil, offline: Bool = false, maxAttempts: Int = 3,
    limits: TransferLimits = TransferLimits(connectTimeout: 90, readTimeout: 90), progress: DownloadProgress = .silent
  ) -> HubOptions {
    var options = HubOptions(
      endpoint: endpoint, cacheDirectory: cacheDirectory, urlCacheDirectory: workspace.path + "/urls",
      token: token, offline: offline, maxAttempts: maxAttempts, limits: limits, progress: progress)
    options.speculatorsCacheDirectory = speculatorsCacheDirectory
    return options
  }

  /// The speculators cache directory (range pieces, stand-ins) the options use.
  public var speculatorsCacheDirectory: String { workspace.path + "/speculators-cache" }

  /// The environment a `speculators` process needs to use this emulator and the test's caches.
  public var environment: [String: String] {
    ["HF_ENDPOINT": endpoint, "HF_HUB_CACHE": cacheDirectory, "SPECULATORS_CACHE": speculatorsCacheDirectory,
     "HF_TOKEN": "", "HF_HUB_OFFLINE": ""]
  }

  /// The Hugging Face cache directory the options use.
  public var cacheDirectory: String { workspace.path + "/hf-cache" }

  /// Every request either server received since the last ``clearLog()``.
  public func requests() throws -> [LoggedRequest] {
    try logEntries().filter { $0["status"] == nil }.map { object in
      LoggedRequest(
        server: object["server"] as? String ?? "", method: object["method"] as? String ?? "",
        path: object["path"] as? String ?? "", headers: object["headers"] as? [String: String] ?? [:])
    }
  }

  /// Body bytes the CDN server (LFS weights and static files) sent since the last ``clearLog()``.
  public func cdnBytesSent() throws -> Int {
    try logEntries().filter { $0["server"] as? String == "cdn" }.compactMap { $0["bytes"] as? Int }.reduce(0, +)
  }

  /// Body bytes both servers sent since the last ``clearLog()`` (responses that have ended).
  public func bytesSent() throws -> Int {
    try logEntries().compactMap { $0["bytes"] as? Int }.reduce(0, +)
  }

  private func logEntries() throws -> [[String: Any]] {
    guard let data = FileManager.default.contents(atPath: logURL.path) else { return [] }
    return try data.split(separator: UInt8(ascii: "\n")).map { line in
      guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
        throw HubEmulatorError(description: "a request-log line is not a JSON object")
      }
      return object
    }
  }

  /// Forgets the requests logged so far.
  public func clearLog() {
    try? FileManager.default.removeItem(at: logURL)
  }

  private static let script: URL = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    return url.appendingPathComponent("hub_server.py")
  }()

  private static func write(_ bytes: [UInt8], to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
  }
}

/// Deterministic pseudo-random bytes (so LFS files are big enough to cut mid-way).
public func fakeWeights(_ count: Int, seed: UInt64) -> [UInt8] {
  var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  return (0..<count).map { _ in
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return UInt8(truncatingIfNeeded: state)
  }
}

/// SHA-256 hex of `bytes`.
public func sha256Hex(_ bytes: [UInt8]) throws -> String {
  try bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) }
}

/// The bytes of the file at `path` (following symlinks).
public func contents(_ path: String) -> [UInt8]? {
  FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}


/// `8 + N` — the 8-byte length and the header — of a safetensors file's bytes: what a
/// header-only read needs.
public func safetensorsHeaderBytes(_ bytes: [UInt8]) -> Int {
  guard bytes.count >= 8 else { return 0 }
  var length = 0
  for index in 0..<8 { length |= Int(bytes[index]) << (8 * index) }
  return 8 + length
}

/// The files of `repo` (name → bytes) under `prefix`, without `excluded` names: a fixture
/// served as the emulator's static files (`/files/<prefix>…`).
public func staticFiles(_ repo: [String: [UInt8]], under prefix: String, excluding excluded: Set<String> = []) -> [String: [UInt8]] {
  var files: [String: [UInt8]] = [:]
  for (name, bytes) in repo where !excluded.contains(name) { files[prefix + name] = bytes }
  return files
}
