import Inspect

/// `Array.withUnsafeBytes` with a body that throws only ``CheckpointError`` (the standard
/// library's version rethrows untyped errors).
func withBytes<Result>(
  of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(CheckpointError) -> Result
) throws(CheckpointError) -> Result {
  var outcome: Swift.Result<Result, CheckpointError>?
  array.withUnsafeBytes { raw in
    outcome = Swift.Result { () throws(CheckpointError) in try body(raw) }
  }
  guard let outcome else {
    throw CheckpointError(.io, file: "", reason: "internal error: byte access did not run")
  }
  return try outcome.get()
}
