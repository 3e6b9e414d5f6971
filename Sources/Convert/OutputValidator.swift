import Inspect

// The full `verify` (Validate's verifier, branch `verify`) is wired here at merge; until then
// these structural checks run: re-open the written checkpoint with the ordinary reader and
// compare it, byte digest by byte digest, with the manifest.

/// Checks a freshly written conversion before it is moved into place.
enum OutputValidator {
  /// Runs the checks on `directory`; returns a short description of each check that passed.
  ///
  /// - Throws: ``CheckpointError`` (`.malformed`) naming the first file or tensor that does not
  ///   match the manifest.
  static func validate(
    directory: String, manifest: AuditManifest, open: CheckpointOpener
  ) throws(CheckpointError) -> [String] {
    var checks: [String] = []
    let checkpoint = try open(directory)
    guard let config = checkpoint.config else {
      throw CheckpointError(
        .malformed, file: directory + "/config.json", reason: "the output has no readable config.json")
    }
    checks.append(
      "re-opened the output: \(checkpoint.tensors.count) tensors in \(checkpoint.weightFiles.count) file(s)")

    let required: [(String, JSONValue?)] = [
      ("speculators_model_type", config["speculators_model_type"]),
      (
        "speculators_config.verifier.name_or_path", config["speculators_config"]?["verifier"]?["name_or_path"]
      ),
      (
        "speculators_config.verifier.architectures",
        config["speculators_config"]?["verifier"]?["architectures"]
      ),
      (
        "speculators_config.proposal_methods[0].speculative_tokens",
        config["speculators_config"]?["proposal_methods"]?.arrayValue?.first?["speculative_tokens"]
      ),
      ("transformer_layer_config", config["transformer_layer_config"]),
    ]
    for (path, value) in required where value == nil || value?.isNull == true {
      throw CheckpointError(.malformed, file: directory + "/config.json", reason: "'\(path)' is missing")
    }
    checks.append("config.json has the keys vLLM requires")

    let written = Dictionary(
      checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    guard written.count == manifest.tensors.count else {
      throw CheckpointError(
        .malformed, file: directory,
        reason: "the output has \(written.count) tensors but the manifest lists \(manifest.tensors.count)")
    }
    let reader = TensorReader()
    for expected in manifest.tensors {
      guard let tensor = written[expected.name] else {
        throw CheckpointError(
          .malformed, file: directory, tensor: expected.name, reason: "listed in the manifest but not written"
        )
      }
      guard tensor.dtype == expected.dtype, tensor.shape == expected.shape else {
        throw CheckpointError(
          .malformed, file: tensor.file, tensor: expected.name,
          reason:
            "written as \(tensor.dtype.rawValue) \(tensor.shape), manifest says \(expected.dtype.rawValue) \(expected.shape)"
        )
      }
      var hasher = XXH3Hasher()
      do {
        try reader.forEachChunk(of: tensor) { hasher.update($0) }
      } catch let error as CheckpointError {
        throw error
      } catch {
        throw CheckpointError(.io, file: tensor.file, tensor: tensor.name, reason: "\(error)")
      }
      let digest = hasher.finalizeHex()
      guard digest == expected.xxh3 else {
        throw CheckpointError(
          .malformed, file: tensor.file, tensor: expected.name,
          reason: "XXH3-128 \(digest) differs from the manifest's \(expected.xxh3)")
      }
    }
    checks.append("\(manifest.tensors.count) tensor digests (XXH3-128) match the manifest")

    for file in manifest.files {
      let path = directory + "/" + file.name
      let (sha, size) = try FileDigests.sha256(ofFile: path)
      guard sha == file.sha256, size == file.size else {
        throw CheckpointError(.malformed, file: path, reason: "SHA-256 or size differs from the manifest")
      }
    }
    checks.append("\(manifest.files.count) file digests (SHA-256) match the manifest")
    return checks
  }
}
