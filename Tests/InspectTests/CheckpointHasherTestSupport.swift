import Foundation
import Inspect

/// Test-side helpers for the hashing tests: a minimal safetensors header reader (so these
/// tests do not depend on the production reader) and external-tool runners.
enum HashingTestSupport {
  /// The tensors of a safetensors file, from its header.
  static func tensors(ofSafetensors url: URL) throws -> [TensorInfo] {
    let data = try Data(contentsOf: url)
    let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = try StrictJSONParser.parse(Array(data[8..<(8 + length)]))
    var out: [TensorInfo] = []
    for (name, entry) in header.objectMembers ?? [] where name != "__metadata__" {
      guard let dtype = entry["dtype"]?.stringValue.flatMap(DType.init(rawValue:)),
        let shape = entry["shape"]?.arrayValue?.compactMap(\.intValue),
        let offsets = entry["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2
      else { throw CocoaError(.fileReadCorruptFile) }
      out.append(
        TensorInfo(
          name: name, dtype: dtype, shape: shape, file: url.path,
          layout: .contiguous(offset: 8 + length + offsets[0], length: offsets[1] - offsets[0])))
    }
    return out
  }

  /// A Checkpoint for a directory of safetensors files plus its other files (built by hand).
  static func checkpoint(directory url: URL) throws -> Checkpoint {
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    var files: [CheckpointFile] = []
    var tensors: [TensorInfo] = []
    for name in names {
      let file = url.appendingPathComponent(name)
      let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
      let kind: CheckpointFileKind =
        name.hasSuffix(".safetensors")
        ? .safetensors
        : name == "config.json"
          ? .config
          : name.hasSuffix(".index.json") ? .index : .other
      files.append(CheckpointFile(path: file.path, name: name, size: size, kind: kind))
      if kind == .safetensors { tensors += try self.tensors(ofSafetensors: file) }
    }
    return Checkpoint(location: url.path, directory: url.path, files: files, config: nil, tensors: tensors)
  }

  /// Runs a tool and returns (status, stdout).
  static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil, input: Data? = nil) throws
    -> (Int32, String)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = Pipe()
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// `xxhsum -H2` of `bytes` (the first field of its output).
  static func xxhsum128(_ bytes: Data) throws -> String {
    let (status, output) = try run("/usr/bin/xxhsum", ["-H2", "-"], input: bytes)
    guard status == 0 else { throw CocoaError(.executableLoad) }
    return String(output.split(separator: " ").first ?? "")
  }

  /// `sha256sum` of a file (the first field of its output).
  static func sha256sum(_ url: URL) throws -> String {
    let (status, output) = try run("/usr/bin/sha256sum", [url.path])
    guard status == 0 else { throw CocoaError(.executableLoad) }
    return String(output.split(separator: " ").first ?? "")
  }

  static var fixtures: URL {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        return url.appendingPathComponent("Fixtures")
      }
    }
    return URL(fileURLWithPath: "Fixtures")
  }

  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hash-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
