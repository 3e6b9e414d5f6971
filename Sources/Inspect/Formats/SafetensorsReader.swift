/// Reads and validates safetensors headers.
public enum SafetensorsReader {
  /// The validated header of a safetensors file.
  public struct Header: Sendable {
    /// The tensors, in the order of their data offsets.
    public var tensors: [TensorInfo]
    /// The `__metadata__` map, if present.
    public var metadata: [String: String]?
  }

  /// Reads and validates the header of `file`.
  public static func readHeader(from file: MappedFile) throws(CheckpointError) -> Header {
    throw CheckpointError(.unsupported, file: file.path, reason: "safetensors reading is not built yet")
  }
}
