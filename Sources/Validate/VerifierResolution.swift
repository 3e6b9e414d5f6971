import Inspect
import Platform

/// A verifier whose `config.json` was found locally.
struct ResolvedVerifier {
  /// The path as given.
  let given: String
  /// The directory holding the verifier.
  let directory: String
  /// Its `config.json`.
  let configPath: String
  /// The parsed config.
  let config: ModelConfig
  /// `"option"` or `"config"`.
  let source: String
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
  ///   local verifier, or a verifier config is not valid JSON.
  static func resolve(_ run: VerificationRun) throws(CheckpointError) -> Outcome {
    if let given = run.options.verifier {
      let path = FileSystem.resolve(given, against: workingDirectory(run))
      let (directory, configPath) = try locateConfig(given: given, path: path)
      let json = try readJSON(at: configPath)
      let weights = try? CheckpointReader.open(directory)
      if let evidence = DraftRecognition.draftEvidence(config: json, checkpoint: weights) {
        throw CheckpointError(
          .invalidArgument, file: given,
          reason: "--verifier is a draft (\(evidence)), not the model it drafts for; pass the verifier model")
      }
      return .resolved(
        ResolvedVerifier(
          given: given, directory: directory, configPath: configPath, config: ModelConfig(json), source: "option"))
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
        FileSystem.isDirectory(candidate) ? FileSystem.join(candidate, "config.json") : candidate
      guard FileSystem.isRegularFile(configPath), configPath.hasSuffix(".json") else { continue }
      return .resolved(
        ResolvedVerifier(
          given: name, directory: FileSystem.parent(of: configPath), configPath: configPath,
          config: ModelConfig(try readJSON(at: configPath)), source: "config"))
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
    switch FileSystem.entry(at: path) {
    case .directory:
      let config = FileSystem.join(path, "config.json")
      guard FileSystem.isRegularFile(config) else {
        throw CheckpointError(.notFound, file: given, reason: "verifier directory has no config.json")
      }
      return (path, config)
    case .regularFile:
      let directory = FileSystem.parent(of: path)
      if path.hasSuffix(".json") && !path.hasSuffix(".index.json") { return (directory, path) }
      let config = FileSystem.join(directory, "config.json")
      guard FileSystem.isRegularFile(config) else {
        throw CheckpointError(.notFound, file: given, reason: "no config.json next to the verifier weights")
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
