/// `Array.withUnsafeBytes` with a body that throws one error type (the standard library's
/// version rethrows untyped errors).
func withBytes<Result, Failure: Error>(
  of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
) throws(Failure) -> Result {
  try array.withUnsafeBytes { raw in Swift.Result { () throws(Failure) in try body(raw) } }.get()
}
