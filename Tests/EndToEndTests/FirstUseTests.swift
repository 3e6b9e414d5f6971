import Foundation
import Inspect
import Testing

/// Runs the binary from the package root without colour.
private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
  var env = ["NO_COLOR": "1"]
  for (key, value) in environment { env[key] = value }
  return try runSpeculators(arguments, environment: env, workingDirectory: TestPaths.packageRoot)
}

private func entries(_ directory: URL) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}

/// Raw control characters, C1 controls and bidirectional overrides in `text` (newlines allowed).
private func unsafeScalars(_ text: String) -> [Unicode.Scalar] {
  text.unicodeScalars.filter {
    ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value)
  }
}

/// A name that would clear the screen, retitle the window and reverse the text if printed raw.
private let hostileName = "evil\u{1B}[2J\u{1B}]0;owned\u{07}\u{202E}x"

/// A copy of fixture `name` in a fresh directory, with one extra U8 tensor called `extra`.
private func copy(_ name: String, adding extra: String? = nil) throws -> URL {
  let directory = try TestPaths.temporaryDirectory().appendingPathComponent(name)
  try FileManager.default.copyItem(at: TestPaths.fixtures.appendingPathComponent(name), to: directory)
  if let extra {
    let weights = directory.appendingPathComponent("model.safetensors").path
    let checkpoint = try CheckpointReader.open(weights)
    let reader = TensorReader()
    var tensors: [SafetensorsRewriter.Tensor] = try checkpoint.tensors.map {
      ($0.name, $0.dtype, $0.shape, try reader.bytes(of: $0))
    }
    tensors.append((extra, .U8, [1], [7]))
    try SafetensorsRewriter.write(tensors, to: weights)
  }
  return directory
}

@Suite struct TerminalEscapeTests {
  @Test("diff and convert's Dropped list escape names from the checkpoint")
  func diffAndConvertEscape() throws {
    let draft = try copy("eagle-safetensors", adding: hostileName)
    let diff = try run(["diff", "Fixtures/eagle-safetensors", draft.path])
    #expect(diff.status == 1, "\(diff.stderr)")
    #expect(diff.stdout.contains("evil\\x1b[2J\\x1b]0;owned\\x07\\u{202E}x"), "\(diff.stdout)")
    #expect(unsafeScalars(diff.stdout + diff.stderr).isEmpty, "\(diff.stdout.debugDescription)")

    let output = draft.deletingLastPathComponent().appendingPathComponent("out")
    let convert = try run([
      "convert", draft.path, "--algorithm", "eagle", "--verifier", "Fixtures/verifier", "--drop-unknown",
      "--output-path", output.path,
    ])
    #expect(convert.status == 0, "\(convert.stderr)")
    #expect(convert.stdout.contains("Dropped ("))
    #expect(convert.stdout.contains("evil\\x1b[2J"), "\(convert.stdout)")
    #expect(unsafeScalars(convert.stdout + convert.stderr).isEmpty, "\(convert.stdout.debugDescription)")
  }

  @Test("hash: sha256sum -c checks names with a newline, a backslash or an escape sequence")
  func hashLinesStayCheckable() throws {
    let directory = try TestPaths.temporaryDirectory()
    let source = TestPaths.fixtures.appendingPathComponent("eagle-safetensors/model.safetensors")
    var checked: [String] = []
    for name in ["line\nbreak.safetensors", "back\\slash.safetensors", "esc\u{1B}[2J.safetensors"] {
      let file = directory.appendingPathComponent(name)
      try FileManager.default.copyItem(at: source, to: file)
      let result = try run(["hash", file.path, "--files-only"])
      #expect(result.status == 0, "\(result.stderr)")
      let sums = directory.appendingPathComponent("SUMS")
      try Data(result.stdout.utf8).write(to: sums)
      let check = try runTool("/usr/bin/sha256sum", ["-c", "--strict", sums.path], in: directory)
      #expect(check.status == 0, "\(name.debugDescription): \(check.stdout) for \(result.stdout.debugDescription)")
      if name.contains("\n") || name.contains("\\") {
        #expect(result.stdout.hasPrefix("\\"), "sha256sum's escaped form starts with a backslash")
      }
      checked.append(name)
      try FileManager.default.removeItem(at: file)
    }
    #expect(checked.count == 3)
  }
}

@Suite struct ConvertArgumentTests {
  @Test("--dtype takes bf16, fp16, fp32 and torch's spellings; --max-shard-size takes 1.5GB")
  func spellings() throws {
    for (spelling, dtype) in [("bf16", "BF16"), ("torch.float16", "F16"), ("half", "F16"), ("fp32", "F32")] {
      let output = try TestPaths.temporaryDirectory().appendingPathComponent("out")
      let result = try run([
        "convert", "Fixtures/eagle-safetensors", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
        "--dtype", spelling, "--max-shard-size", "1.5GB", "--output-path", output.path, "--json",
      ])
      #expect(result.status == 0, "\(spelling): \(result.stderr)")
      let report = try StrictJSONParser.parse(Array(result.stdout.utf8))
      let dtypes = Set(report["tensors"]?.arrayValue?.compactMap { $0["dtype"]?.stringValue } ?? [])
      #expect(dtypes == [dtype], "\(spelling): \(dtypes)")
    }
  }

  @Test("a bad --dtype or --max-shard-size is a usage error listing the accepted forms; nothing is written")
  func badSpellings() throws {
    for (flag, value, listed) in [("--dtype", "int8", "bf16"), ("--max-shard-size", "5XB", "1.5GB")] {
      let parent = try TestPaths.temporaryDirectory()
      let result = try run([
        "convert", "Fixtures/eagle-safetensors", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
        flag, value, "--output-path", parent.appendingPathComponent("out").path,
      ])
      #expect(result.status == 2)
      #expect(result.stderr.contains("'\(value)'") && result.stderr.contains(listed), "\(result.stderr)")
      #expect(!result.stderr.contains("file:"))
      #expect(entries(parent).isEmpty)
    }
  }

  @Test("--verifier refuses a draft, in convert and verify, and writes nothing")
  func verifierIsADraft() throws {
    for draft in ["Fixtures/eagle-safetensors", "Fixtures/eagle3-embed", "Fixtures/speculators-eagle3"] {
      let parent = try TestPaths.temporaryDirectory()
      let convert = try run([
        "convert", "Fixtures/eagle3-embed", "--algorithm", "eagle3", "--verifier", draft,
        "--output-path", parent.appendingPathComponent("out").path,
      ])
      #expect(convert.status == 2, "\(draft): \(convert.stdout)")
      #expect(convert.stderr.contains("--verifier is a draft"), "\(convert.stderr)")
      #expect(convert.stderr.split(separator: "\n").count == 1)
      #expect(entries(parent).isEmpty)
      let verify = try run(["verify", "Fixtures/speculators-eagle3", "--verifier", draft])
      #expect(verify.status == 2, "\(draft): \(verify.stdout)")
      #expect(verify.stderr.contains("--verifier is a draft"), "\(verify.stderr)")
    }
  }

  @Test("a verifier given as its config.json or a shard is recorded as its directory")
  func verifierFileResolvesToItsDirectory() throws {
    for given in ["Fixtures/verifier/config.json", "Fixtures/verifier/model-00001-of-00002.safetensors"] {
      let output = try TestPaths.temporaryDirectory().appendingPathComponent("out")
      let result = try run([
        "convert", "Fixtures/eagle3-embed", "--algorithm", "eagle3", "--verifier", given,
        "--output-path", output.path,
      ])
      #expect(result.status == 0, "\(given): \(result.stderr)")
      let config = try StrictJSONParser.parse([UInt8](Data(contentsOf: output.appendingPathComponent("config.json"))))
      #expect(config["speculators_config"]?["verifier"]?["name_or_path"]?.stringValue == "Fixtures/verifier")
    }
  }

  @Test("--force only replaces the output; --ignore-detection overrides detection without suggesting --allow-drop")
  func forceAndIgnoreDetection() throws {
    let parent = try TestPaths.temporaryDirectory()
    let output = parent.appendingPathComponent("out")
    let forced = try run([
      "convert", "Fixtures/eagle3-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier", "--force",
      "--output-path", output.path,
    ])
    #expect(forced.status == 2)
    #expect(forced.stderr.contains("--ignore-detection converts anyway"), "\(forced.stderr)")
    let overridden = try run([
      "convert", "Fixtures/eagle3-bin", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
      "--ignore-detection", "--output-path", output.path,
    ])
    #expect(overridden.status == 2)
    #expect(overridden.stderr.contains("does not have the eagle layout"), "\(overridden.stderr)")
    #expect(!overridden.stderr.contains("--allow-drop"), "\(overridden.stderr)")
    #expect(entries(parent).isEmpty)
  }

  @Test("an explicit kwarg that the tensors override is a warning on stderr (and in the JSON report)")
  func overriddenKwargWarns() throws {
    let output = try TestPaths.temporaryDirectory().appendingPathComponent("out")
    let arguments = [
      "convert", "Fixtures/hass-bias", "--algorithm", "eagle", "--verifier", "Fixtures/verifier",
      "--algorithm-kwargs", #"{"fusion_bias": false}"#, "--output-path", output.path,
    ]
    let human = try run(arguments)
    #expect(human.status == 0, "\(human.stderr)")
    #expect(human.stderr.contains("warning: --algorithm-kwargs fusion_bias: false is overridden"), "\(human.stderr)")
    #expect(!human.stdout.contains("warning:"))
    let json = try run(arguments + ["--json", "--force"])
    let report = try StrictJSONParser.parse(Array(json.stdout.utf8))
    #expect(report["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("fusion_bias") == true } == true)
  }

  @Test("human output: an aligned file table with human sizes; warnings on stderr; validation in verify's format")
  func humanOutput() throws {
    let output = try TestPaths.temporaryDirectory().appendingPathComponent("out")
    let result = try run([
      "convert", "Fixtures/eagle3-embed", "--algorithm", "eagle3", "--verifier", "Fixtures/verifier",
      "--validate-device", "cpu", "--output-path", output.path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    let table = lines.filter { $0.hasSuffix(String(repeating: "", count: 0)) && $0.contains(" KiB  ") }
    #expect(table.count == 3, "\(result.stdout)")
    let shaColumns = Set(table.compactMap { line in line.range(of: " KiB  ").map { line.distance(from: line.startIndex, to: $0.upperBound) } })
    #expect(shaColumns.count == 1, "the sha256 column is not aligned: \(table)")
    #expect(!result.stdout.contains(" bytes  sha256"))
    #expect(result.stdout.contains("Validation (cpu)"))
    #expect(result.stdout.contains("  verify \(output.path) (checked as speculators-eagle3)"), "\(result.stdout)")
    #expect(result.stdout.contains("passed with warnings: 0 errors"))
    #expect(!result.stdout.contains(".tmp-"), "the temporary directory is named")
  }
}

@Suite struct FirstUseCommandTests {
  @Test("verify --list-checks --json prints the catalogue as JSON")
  func listChecksJSON() throws {
    let result = try run(["verify", "--list-checks", "--json"])
    #expect(result.status == 0)
    let document = try StrictJSONParser.parse(Array(result.stdout.utf8))
    let ids = document["checks"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    #expect(ids.contains("config.present"))
    #expect(ids.count > 20)
  }

  @Test("a mistyped command gets a did-you-mean and exit 2")
  func didYouMean() throws {
    let result = try run(["convrt", "x"])
    #expect(result.status == 2)
    #expect(result.stderr == "error: unknown command 'convrt'; did you mean 'convert'? (speculators --help lists the commands)\n")
  }

  @Test("--help examples fit 80 columns without wrapping mid-command; convert's help has exit status and sources")
  func helpFits() throws {
    for command in ["convert", "inspect", "verify", "diff", "hash"] {
      let help = try run([command, "--help"], environment: ["COLUMNS": "80"])
      #expect(help.status == 0)
      guard let start = help.stdout.range(of: "Examples:\n") else {
        Issue.record("\(command): no examples")
        continue
      }
      let examples = help.stdout[start.upperBound...].split(separator: "\n\n", maxSplits: 1).first ?? ""
      for line in examples.split(separator: "\n") {
        #expect(line.hasPrefix("  speculators ") || line.hasPrefix("      ") || line.hasPrefix("  (cd "), "\(command): '\(line)'")
        #expect(line.count <= 80, "\(command): '\(line)'")
      }
    }
    let convert = try run(["convert", "--help"])
    #expect(convert.stdout.contains("Exit status: 0 converted"))
    #expect(convert.stdout.contains("HUB AND URL SOURCES:"))
  }
}

@Suite struct FirstUseMessageTests {
  @Test("rotary_emb.inv_freq (saved by older transformers) is dropped with a note, not an error")
  func invFreqIsDropped() throws {
    let draft = try copy("eagle-safetensors", adding: "layers.0.self_attn.rotary_emb.inv_freq")
    let output = draft.deletingLastPathComponent().appendingPathComponent("out")
    let result = try run([
      "convert", draft.path, "--algorithm", "eagle", "--verifier", "Fixtures/verifier", "--output-path", output.path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout.contains("layers.0.self_attn.rotary_emb.inv_freq: rotary_emb.inv_freq is a non-persistent buffer"),
      "\(result.stdout)")
  }

  @Test("inspect of a config.json says it is a config, not a hex dump")
  func inspectConfig() throws {
    let result = try run(["inspect", "Fixtures/verifier/config.json"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("this is a model config (config.json), not weights"), "\(result.stderr)")
    #expect(result.stderr.contains("'Fixtures/verifier'"))
    #expect(!result.stderr.contains("starts with"))
  }

  @Test("things that exist but are a FIFO, a directory or a symbolic link loop are not said not to exist")
  func existingButUnusable() throws {
    let directory = try TestPaths.temporaryDirectory()
    let fifo = directory.appendingPathComponent("fifo").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let loop = directory.appendingPathComponent("loop").path
    #expect(symlink(loop, loop) == 0)
    let empty = directory.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    for path in [fifo, loop, empty.path] {
      for arguments in [
        ["inspect", path],
        ["convert", "Fixtures/eagle-safetensors", "--algorithm", "eagle", "--verifier", path, "--output-path",
         directory.appendingPathComponent("out").path],
      ] {
        let result = try run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stdout)")
        #expect(!result.stderr.contains("no such file"), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("does not exist"), "\(arguments): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      }
    }
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path))
  }

  @Test("a short t2d is blamed on the draft's t2d, not on the verifier's config")
  func shortT2D() throws {
    let draft = try copy("eagle3-embed")
    // t2d cut to its first 256 entries (the vocabulary is 512).
    let weights = draft.appendingPathComponent("model.safetensors").path
    let checkpoint = try CheckpointReader.open(weights)
    let reader = TensorReader()
    let tensors: [SafetensorsRewriter.Tensor] = try checkpoint.tensors.map {
      ($0.name, $0.dtype, $0.name == "t2d" ? [256] : $0.shape, Array(try reader.bytes(of: $0).prefix($0.name == "t2d" ? 256 : Int.max)))
    }
    try SafetensorsRewriter.write(tensors, to: weights)
    let parent = draft.deletingLastPathComponent()
    let result = try run([
      "convert", draft.path, "--algorithm", "eagle3", "--verifier", "Fixtures/verifier",
      "--output-path", parent.appendingPathComponent("out").path,
    ])
    #expect(result.status == 2)
    #expect(result.stderr.contains("tensor 't2d'") || result.stderr.contains("t2d"), "\(result.stderr)")
    #expect(result.stderr.contains("covers 256 tokens"), "\(result.stderr)")
    #expect(!result.stderr.contains("Fixtures/verifier/config.json"), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: parent.appendingPathComponent("out").path))
  }
}

@Suite struct PickleProtocolCommandTests {
  @Test(
    "checkpoints written with torch.save(..., pickle_protocol=N) for N = 1, 4, 5 are read by inspect and hash",
    arguments: [1, 4, 5])
  func protocols(protocol version: Int) throws {
    let path = "Fixtures/torch/protocol\(version).pt"
    let inspect = try run(["inspect", path, "--json"])
    #expect(inspect.status == 0, "\(inspect.stderr)")
    let report = try StrictJSONParser.parse(Array(inspect.stdout.utf8))
    let names = Set(report["tensors"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
    #expect(names == ["fc.weight", "fc.bias", "layers.0.norm.weight"])
    let hash = try run(["hash", path, "--tensors-only"])
    #expect(hash.status == 0, "\(hash.stderr)")
    #expect(hash.stdout.split(separator: "\n").count == 4)
  }
}
