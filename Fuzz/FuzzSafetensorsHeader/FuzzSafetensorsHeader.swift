// libFuzzer target: the safetensors header reader on arbitrary bytes (taken as a whole file).
//
// Properties checked besides "no crash, no sanitizer report, no hang":
// - the fast scanner path and the general JSON path agree exactly (same tensors, metadata and
//   header length, or the same error);
// - every accepted tensor's bytes lie inside the input and every error is one line.
import FuzzSupport
@testable import Inspect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let path = "fuzz.safetensors"
  let fast = Result { () throws(CheckpointError) in
    try SafetensorsReader.readHeader(bytes: bytes, path: path, allowFastPath: true)
  }
  let general = Result { () throws(CheckpointError) in
    try SafetensorsReader.readHeader(bytes: bytes, path: path, allowFastPath: false)
  }
  switch (fast, general) {
  case (.success(let a), .success(let b)):
    guard a.tensors == b.tensors, a.metadata == b.metadata, a.headerLength == b.headerLength else {
      fatalError("fast and general paths accept different headers")
    }
    for tensor in a.tensors {
      guard case .contiguous(let offset, let length) = tensor.layout, offset >= a.dataStart,
        length >= 0, offset <= size, length <= size - offset
      else { fatalError("tensor '\(tensor.name)' lies outside the file") }
    }
  case (.failure(let a), .failure(let b)):
    guard a == b else { fatalError("fast and general paths fail differently: \(a) / \(b)") }
    guard !a.reason.contains("\n") else { fatalError("multi-line reason: \(a.reason)") }
  default:
    fatalError("one path accepts what the other refuses: \(fast) / \(general)")
  }
  return 0
}

@main enum FuzzSafetensorsHeader {
  static func main() { runFuzzer(fuzzSafetensorsHeader) }
}
