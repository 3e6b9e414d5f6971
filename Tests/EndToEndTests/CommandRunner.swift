import Foundation

/// The result of running the built `speculators` binary.
struct CommandResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// Paths of the repository and of the built binary, for end-to-end tests.
enum TestPaths {
  /// The package root (the directory holding Package.swift).
  static let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        return url
      }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
  }()

  /// `Fixtures/` at the package root.
  static var fixtures: URL { packageRoot.appendingPathComponent("Fixtures") }

  /// The `speculators` executable next to the running test bundle.
  static let binary: URL = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = exe.deletingLastPathComponent()
    // On Linux the test runner is `<products>/<package>PackageTests.xctest`.
    for _ in 0..<3 {
      let candidate = directory.appendingPathComponent("speculators")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      directory.deleteLastPathComponent()
    }
    return packageRoot.appendingPathComponent(".build/debug/speculators")
  }()

  /// A fresh, empty temporary directory, inside one per test process that is removed when the
  /// process exits.
  static func temporaryDirectory() throws -> URL {
    let url = endToEndTestRoot.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// The parent of every ``TestPaths/temporaryDirectory()`` of this process.
let endToEndTestRoot: URL = {
  let root = FileManager.default.temporaryDirectory.appendingPathComponent("speculators-tests-\(getpid())")
  try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  atexit { try? FileManager.default.removeItem(at: endToEndTestRoot) }
  return root
}()

/// A process for the built binary with `arguments`, under `ulimit -f fileSizeLimitBlocks`
/// (1 KiB blocks) when given.
func speculatorsProcess(_ arguments: [String], fileSizeLimitBlocks: Int? = nil) -> Process {
  let process = Process()
  if let blocks = fileSizeLimitBlocks {
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", "ulimit -f \(blocks); exec \"$0\" \"$@\"", TestPaths.binary.path] + arguments
  } else {
    process.executableURL = TestPaths.binary
    process.arguments = arguments
  }
  return process
}

/// Runs the built binary with `arguments`.
///
/// - Parameters:
///   - environment: variables added to (or replacing) the test process's environment.
///   - workingDirectory: the child's working directory (default: the test process's).
///   - fileSizeLimitBlocks: runs the binary under `ulimit -f` (1 KiB blocks) to simulate a
///     disk that fills up.
func runSpeculators(
  _ arguments: [String], environment: [String: String] = [:], workingDirectory: URL? = nil,
  fileSizeLimitBlocks: Int? = nil
) throws -> CommandResult {
  let process = speculatorsProcess(arguments, fileSizeLimitBlocks: fileSizeLimitBlocks)
  if let workingDirectory { process.currentDirectoryURL = workingDirectory }
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment { env[key] = value }
  process.environment = env
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  // Read both pipes concurrently so a full pipe never blocks the child.
  nonisolated(unsafe) var errData = Data()
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  return CommandResult(
    status: process.terminationStatus,
    stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}
