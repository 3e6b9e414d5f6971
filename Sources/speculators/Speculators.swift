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
      ProbeCommand.self,
    ]
  )

  /// Parses and runs, mapping usage errors to exit status 2 (the argument parser's default is 64).
  static func main() {
    TerminationSignals.install()
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let first = arguments.first, let message = unknownCommandMessage(first) {
      writeStandardError("error: \(message)\n")
      Glibc.exit(ExitStatus.inputError.rawValue)
    }
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      if exitCode(for: error) == .validationFailure {
        // One line, as every input error (the usage is one `--help` away).
        let line = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
        writeStandardError("error: \(TerminalText.escaped(line)) (see --help)\n")
        Glibc.exit(ExitStatus.inputError.rawValue)
      }
      exit(withError: error)
    }
  }

  /// The names `speculators SUBCOMMAND` accepts.
  static var commandNames: [String] {
    configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
  }

  /// For a first argument that is no option and no command: the message naming the closest
  /// command (`unknown command 'convrt'; did you mean 'convert'?`), else `nil`.
  static func unknownCommandMessage(_ argument: String) -> String? {
    guard !argument.hasPrefix("-"), !commandNames.contains(argument) else { return nil }
    let escaped = TerminalText.escaped(argument)
    let ranked = commandNames.map { ($0, EditDistance.between($0, argument.lowercased())) }
      .sorted { $0.1 < $1.1 }
    if let best = ranked.first, best.1 <= max(2, best.0.count / 3) || best.0.hasPrefix(argument.lowercased()) {
      return "unknown command '\(escaped)'; did you mean '\(best.0)'? (speculators --help lists the commands)"
    }
    return "unknown command '\(escaped)'; the commands are \(commandNames.dropLast().joined(separator: ", "))"
  }
}
