/// A checkpoint whose tensor names lost a wrapper prefix, with the way back to the stored names:
/// the one place that strips wrapper prefixes (detection chooses the prefix, convert and verify
/// strip it here).
package struct UnwrappedCheckpoint: Sendable {
  /// Prefixes that wrap a whole draft state dict; detection tries them in this order.
  package static let wrapperPrefixes = ["model.", "eagle_module.", "draft_model.", "speculator."]

  /// The checkpoint with names as the layout rules expect them.
  package var checkpoint: Checkpoint
  /// Unwrapped name → name as stored (only for renamed tensors).
  package var storedNames: [String: String]

  /// The name as stored in the source.
  package func storedName(_ name: String) -> String { storedNames[name] ?? name }

  /// Strips `prefix` from every tensor name that has it (NeMo keeps `lm_head.*` outside the
  /// wrapper); `nil` prefix leaves the checkpoint as it is.
  ///
  /// - Throws: ``CheckpointError`` when stripping makes two names equal.
  package static func unwrapping(_ checkpoint: Checkpoint, prefix: String?) throws(CheckpointError) -> UnwrappedCheckpoint {
    guard let prefix, !prefix.isEmpty else { return UnwrappedCheckpoint(checkpoint: checkpoint, storedNames: [:]) }
    var storedNames: [String: String] = [:]
    var seen = Set<String>()
    var tensors: [TensorInfo] = []
    for var tensor in checkpoint.tensors {
      if tensor.name.hasPrefix(prefix), tensor.name.count > prefix.count {
        let short = String(tensor.name.dropFirst(prefix.count))
        storedNames[short] = tensor.name
        tensor.name = short
      }
      guard seen.insert(tensor.name).inserted else {
        throw CheckpointError(
          .unsupported, file: checkpoint.location, tensor: tensor.name,
          reason: "two tensors have this name once the wrapper prefix '\(prefix)' is removed")
      }
      tensors.append(tensor)
    }
    let view = Checkpoint(
      location: checkpoint.location, directory: checkpoint.directory, files: checkpoint.files,
      config: checkpoint.config, metadata: checkpoint.metadata, tensors: tensors)
    return UnwrappedCheckpoint(checkpoint: view, storedNames: storedNames)
  }
}
