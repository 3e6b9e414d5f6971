import ArgumentParser
import Inspect

/// The `speculators` command: convert, inspect, verify, diff and hash speculative-decoding drafts.
@main
struct Speculators: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "speculators",
    abstract: "Convert, inspect, verify, diff and hash speculative-decoding draft checkpoints.",
    discussion: """
      Reads EAGLE v1/v2, HASS and EAGLE-3 drafts (safetensors or PyTorch .bin, single or \
      sharded) without Python, and writes the Speculators format that vLLM serves.
      """,
    version: "speculators version: \(ToolInfo.version)",
    subcommands: [DiffCommand.self]
  )
}
