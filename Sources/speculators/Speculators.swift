import ArgumentParser
import Inspect
import Platform

/// The `speculators` command: convert, inspect, verify, diff and hash speculative-decoding drafts.
@main
struct Speculators: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "speculators",
    abstract: "Convert, inspect, verify, diff and hash speculative-decoding draft checkpoints.",
    discussion: """
      Reads EAGLE v1/v2, HASS and EAGLE-3 drafts (safetensors or PyTorch .bin, single or \
      sharded) without Python, and writes the Speculators format that vLLM serves.

      Exit status: 0 success, 1 the check or diff found problems, 2 usage or input error.
      """,
    version: "speculators version: \(ToolInfo.version)",
    subcommands: [
      ConvertCommand.self, InspectCommand.self, VerifyCommand.self, DiffCommand.self, HashCommand.self,
    ]
  )

  /// Parses and runs, mapping usage errors to exit status 2 (the argument parser's default is 64).
  static func main() {
    TerminationSignals.install()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      if exitCode(for: error) == .validationFailure {
        writeStandardError(fullMessage(for: error) + "\n")
        Glibc.exit(ExitStatus.inputError.rawValue)
      }
      exit(withError: error)
    }
  }
}
