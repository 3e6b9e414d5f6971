// libFuzzer target: the safetensors header reader on arbitrary bytes (taken as a whole file).
//
// Properties checked besides "no crash, no sanitizer report, no hang": every accepted tensor's
// bytes lie inside the input, in offset order without gaps, and every error is one line.
import FuzzSupport
@testable import Inspect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let outcome = Result { () throws(CheckpointError) in
    try SafetensorsReader.readHeader(bytes: bytes, path: "fuzz.safetensors")
  }
  switch outcome {
  case .success(let header):
    var next = header.dataStart
    for tensor in header.tensors {
      guard case .contiguous(let offset, let length) = tensor.layout, offset == next,
        length >= 0, offset <= size, length <= size - offset
      else { fatalError("tensor '\(tensor.name)' lies outside the file or out of order") }
      next = offset + length
    }
    guard next == size else { fatalError("accepted tensors do not end at the end of the file") }
  case .failure(let error):
    guard !error.reason.contains("\n") else { fatalError("multi-line reason: \(error.reason)") }
  }
  return 0
}

@main enum FuzzSafetensorsHeader {
  static func main() { runFuzzer(fuzzSafetensorsHeader) }
}
