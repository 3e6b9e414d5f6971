import Inspect
import Platform

/// A verifier whose `config.json` was found locally: the shared ``VerifierConfig`` (directory,
/// config and sizes, read through this type by member lookup) and how it was named.
@dynamicMemberLookup
struct ResolvedVerifier {
  /// The path as given.
  let given: String
  /// Its config, directory and sizes.
  let model: VerifierConfig
  /// `"option"` or `"config"`.
  let source: String

  /// A fact of ``model`` (`verifier.hiddenSize`, `verifier.configPath`, ...).
  subscript<Value>(dynamicMember keyPath: KeyPath<VerifierConfig, Value>) -> Value {
    model[keyPath: keyPath]
  }
}

/// Finds the verifier: `--verifier` first, else `speculators_config.verifier.name_or_path` when
/// it is a local path (relative to the working directory, then to the checkpoint directory).
enum VerifierResolution {
  /// The outcome of resolution.
  enum Outcome {
    case resolved(ResolvedVerifier)
    /// No verifier available; the reason, for skipped checks.
    case unavailable(String)
  }

  /// Resolves the verifier for `run`.
  ///
  /// - Throws: ``CheckpointError`` when `--verifier` names something that is not a readable
  ///   local verifier, or a verifier config is not valid JSON; ``UsageError`` when it names a
  ///   draft.
  static func resolve(_ run: VerificationRun) throws -> Outcome {
    if let given = run.options.verifier {
      let path = FileSystem.resolve(given, against: workingDirectory(run))
      let (directory, configPath) = try locateConfig(given: given, path: path)
      let json = try readJSON(at: configPath)
      let weights = try? CheckpointReader.open(directory)
      if let refusal = VerifierConfig.draftRefusal(config: json, weights: weights, given: given) { throw refusal }
      return .resolved(
        ResolvedVerifier(
          given: given, model: VerifierConfig(directory: directory, configPath: configPath, config: ModelConfig(json)),
          source: "option"))
    }
    guard let name = run.config?["speculators_config"]?["verifier"]?["name_or_path"]?.stringValue,
      !name.isEmpty
    else {
      let what =
        run.model?.speculatorsModelType == nil
        ? "a raw draft names no verifier" : "the config names no verifier"
      return .unavailable("no verifier: \(what); pass --verifier DIR")
    }
    for candidate in candidatePaths(for: name, run: run) {
      let configPath =
        FileSystem.isDirectory(candidate) ? FileSystem.join(candidate, VerifierConfig.configName) : candidate
      guard FileSystem.isRegularFile(configPath), configPath.hasSuffix(".json") else { continue }
      let config = ModelConfig(try readJSON(at: configPath))
      return .resolved(
        ResolvedVerifier(
          given: name, model: VerifierConfig(directory: FileSystem.parent(of: configPath), configPath: configPath, config: config),
          source: "config"))
    }
    return .unavailable(
      "verifier '\(name)' from speculators_config.verifier.name_or_path is not a local directory "
        + "with config.json; pass --verifier DIR")
  }

  /// The paths `name` may refer to: relative to the working directory, then to the checkpoint
  /// directory (`~/` expands to `$HOME`).
  static func candidatePaths(for name: String, run: VerificationRun) -> [String] {
    var name = name
    if name.hasPrefix("~/"), let home = getenv("HOME") {
      name = String(cString: home) + String(name.dropFirst())
    }
    if name.hasPrefix("/") { return [name] }
    return [
      FileSystem.resolve(name, against: workingDirectory(run)), FileSystem.join(run.checkpoint.directory, name),
    ]
  }

  private static func workingDirectory(_ run: VerificationRun) -> String {
    run.options.workingDirectory ?? FileSystem.currentDirectory()
  }

  private static func locateConfig(given: String, path: String) throws(CheckpointError) -> (String, String) {
    let entry = FileSystem.entry(at: path)
    switch entry {
    case .directory, .regularFile:
      let (directory, config) = VerifierConfig.location(of: path, isDirectory: entry == .directory)
      guard FileSystem.isRegularFile(config) else {
        throw CheckpointError(
          .notFound, file: given,
          reason: entry == .directory ? "verifier directory has no config.json" : "no config.json next to the verifier weights")
      }
      return (directory, config)
    case .missing:
      throw CheckpointError(
        .notFound, file: given,
        reason: "verifier not found (verify reads local verifiers only: a directory holding config.json)")
    case .other:
      throw CheckpointError(.io, file: given, reason: "verifier is neither a file nor a directory")
    }
  }

  /// Reads and strictly parses a JSON file.
  static func readJSON(at path: String) throws(CheckpointError) -> JSONValue {
    let file = try MappedFile(path: path)
    do {
      return try StrictJSONParser.parse(file.bytes)
    } catch {
      throw CheckpointError(
        .malformed, file: path, offset: UInt64(max(0, error.offset)), reason: error.reason)
    }
  }
}
