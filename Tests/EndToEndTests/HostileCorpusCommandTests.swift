import Foundation
import Inspect
import Testing

/// One entry of a hostile corpus: a file or directory under `Fixtures/hostile/<corpus>/` and a
/// substring of the one-line error it must produce.
struct HostileCase: Sendable, CustomTestStringConvertible {
  var corpus: String
  var name: String
  var message: String

  var path: String { TestPaths.fixtures.appendingPathComponent("hostile/\(corpus)/\(name)").path }
  var testDescription: String { "\(corpus)/\(name)" }

  /// Every entry of the three corpora (`safetensors`: name → message; `torch` and `config`:
  /// name → {kind, message}).
  static let all: [HostileCase] = {
    var cases: [HostileCase] = []
    for corpus in ["safetensors", "torch", "config"] {
      let url = TestPaths.fixtures.appendingPathComponent("hostile/\(corpus)/expected.json")
      guard let data = FileManager.default.contents(atPath: url.path),
        let members = (try? StrictJSONParser.parse(Array(data)))?.objectMembers
      else { continue }
      for (name, value) in members {
        guard let message = value.stringValue ?? value["message"]?.stringValue else { continue }
        cases.append(HostileCase(corpus: corpus, name: name, message: message))
      }
    }
    return cases
  }()
}

/// Runs every hostile corpus entry through the real `speculators` binary: `inspect`, `convert`,
/// `verify`, `hash` and `diff` must refuse it with exit status 2 and one printable line on stderr naming the file
/// and saying what is wrong, print nothing on stdout, write nothing (working directory, home,
/// caches and output path all stay empty) and leave the input exactly as it was. The pickles'
/// payloads would create a file named `pwned` in the working directory if anything ran them.
@Suite struct HostileCorpusCommandTests {
  @Test func everyCorpusIsLoaded() {
    let byCorpus = Dictionary(grouping: HostileCase.all, by: \.corpus)
    #expect(byCorpus["safetensors"]?.count ?? 0 >= 40)
    #expect(byCorpus["torch"]?.count ?? 0 >= 80)
    #expect(byCorpus["config"]?.count ?? 0 >= 15)
  }

  @Test(arguments: HostileCase.all)
  func inspectRefuses(_ hostile: HostileCase) throws {
    let sandbox = try Sandbox()
    defer { sandbox.remove() }
    let before = try Snapshot(hostile.path)
    let result = try runSpeculators(
      ["inspect", hostile.path], environment: sandbox.environment, workingDirectory: sandbox.workingDirectory)
    try expectRefusal(result, hostile)
    #expect(result.stdout.isEmpty, "\(result.stdout)")
    #expect(try sandbox.isEmpty(), "inspect wrote something")
    #expect(try Snapshot(hostile.path) == before, "the input changed")
  }

  @Test(arguments: HostileCase.all)
  func convertRefusesAndWritesNothing(_ hostile: HostileCase) throws {
    let sandbox = try Sandbox()
    defer { sandbox.remove() }
    let before = try Snapshot(hostile.path)
    let output = sandbox.workingDirectory.appendingPathComponent("out")
    let verifier = TestPaths.fixtures.appendingPathComponent("verifier").path
    let result = try runSpeculators(
      ["convert", hostile.path, "--algorithm", "auto", "--verifier", verifier, "--output-path", output.path],
      environment: sandbox.environment, workingDirectory: sandbox.workingDirectory)
    try expectRefusal(result, hostile)
    #expect(try sandbox.isEmpty(), "convert wrote something")
    #expect(try Snapshot(hostile.path) == before, "the input changed")
  }

  @Test(arguments: HostileCase.all)
  func verifyHashAndDiffRefuse(_ hostile: HostileCase) throws {
    let reference = TestPaths.fixtures.appendingPathComponent("eagle3-embed").path
    for command in [["verify", hostile.path], ["hash", hostile.path], ["diff", hostile.path, reference]] {
      let sandbox = try Sandbox()
      defer { sandbox.remove() }
      let before = try Snapshot(hostile.path)
      let result = try runSpeculators(
        command, environment: sandbox.environment, workingDirectory: sandbox.workingDirectory)
      try expectRefusal(result, hostile)
      #expect(result.stdout.isEmpty, "\(command[0]): \(result.stdout)")
      #expect(try sandbox.isEmpty(), "\(command[0]) wrote something")
      #expect(try Snapshot(hostile.path) == before, "the input changed")
    }
  }

  @Test("names from a checkpoint cannot drive the terminal: inspect, hash and verify escape them")
  func controlCharactersInNamesAreEscaped() throws {
    let sandbox = try Sandbox()
    defer { sandbox.remove() }
    // The EAGLE-3 fixture plus one extra tensor whose name holds escape sequences.
    let name = "evil\u{1B}[2J\u{1B}]0;owned\u{07}\u{202E}"
    let fixture = TestPaths.fixtures.appendingPathComponent("eagle3-embed")
    let original = try [UInt8](Data(contentsOf: fixture.appendingPathComponent("model.safetensors")))
    let headerLength = original.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
    let dataLength = original.count - 8 - headerLength
    let parsed = try StrictJSONParser.parse(Array(original[8..<(8 + headerLength)]))
    let extra: JSONValue = [
      "dtype": "U8", "shape": [1], "data_offsets": [.int(Int64(dataLength)), .int(Int64(dataLength + 1))],
    ]
    let header = Array(JSONWriter.compact(parsed.setting(name, to: extra)).utf8)
    var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
    bytes += original[(8 + headerLength)...]
    bytes.append(0)
    let draft = sandbox.root.appendingPathComponent("draft")
    try FileManager.default.createDirectory(at: draft, withIntermediateDirectories: true)
    try Data(bytes).write(to: draft.appendingPathComponent("model.safetensors"))
    try FileManager.default.copyItem(
      at: fixture.appendingPathComponent("config.json"), to: draft.appendingPathComponent("config.json"))
    let file = draft
    for command in [["inspect"], ["hash"], ["verify"]] {
      let result = try runSpeculators(command + [file.path], environment: sandbox.environment)
      #expect(result.status != 2, "\(command[0]): \(result.stderr)")
      #expect(result.stdout.contains("evil"), "\(command[0]) does not show the tensor")
      for text in [result.stdout, result.stderr] {
        let unsafe = text.unicodeScalars.filter {
          ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E
        }
        #expect(unsafe.isEmpty, "\(command[0]) printed raw control characters: \(text.debugDescription)")
      }
      if command == ["inspect"] { #expect(result.stdout.contains("evil\\x1b[2J\\x1b]0;owned\\x07\\u{202E}")) }
    }
  }

  private func expectRefusal(_ result: CommandResult, _ hostile: HostileCase) throws {
    #expect(result.status == 2, "\(hostile.name): exit \(result.status): \(result.stderr)")
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "not one line: \(result.stderr)")
    let line = String(lines.first ?? "")
    #expect(line.hasPrefix("error: "), "\(line)")
    #expect(line.contains(hostile.path), "the message does not name the file: \(line)")
    #expect(line.contains(hostile.message), "expected '\(hostile.message)' in: \(line)")
    let controls = line.unicodeScalars.filter { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    #expect(controls.isEmpty, "control characters reach the terminal: \(line.debugDescription)")
  }
}

/// An empty working directory and an empty home (with the Hugging Face and XDG caches pointing
/// into it), to show a command wrote nothing anywhere it might.
struct Sandbox {
  let root: URL
  var workingDirectory: URL { root.appendingPathComponent("cwd") }
  var home: URL { root.appendingPathComponent("home") }

  init() throws {
    root = try TestPaths.temporaryDirectory()
    for directory in [workingDirectory, home] {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
  }

  var environment: [String: String] {
    [
      "HOME": home.path, "HF_HOME": home.appendingPathComponent("hf").path,
      "XDG_CACHE_HOME": home.appendingPathComponent("cache").path, "NO_COLOR": "1", "HF_HUB_OFFLINE": "1",
    ]
  }

  func isEmpty() throws -> Bool {
    try [workingDirectory, home].allSatisfy { try FileManager.default.contentsOfDirectory(atPath: $0.path).isEmpty }
  }

  func remove() { try? FileManager.default.removeItem(at: root) }
}

/// The names, sizes and SHA-256 of a file or of every file below a directory.
struct Snapshot: Equatable {
  var files: [String: String] = [:]

  init(_ path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    let paths =
      isDirectory.boolValue
      ? (FileManager.default.subpaths(atPath: path) ?? []).map { path + "/" + $0 } : [path]
    for file in paths {
      var inner: ObjCBool = false
      guard FileManager.default.fileExists(atPath: file, isDirectory: &inner), !inner.boolValue else {
        files[file] = "directory"
        continue
      }
      let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
      files[file] = try "\(bytes.count) " + bytes.withUnsafeBytes { try SHA256Hasher.hex(of: $0) }
    }
  }
}
