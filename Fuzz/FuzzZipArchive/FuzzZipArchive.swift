// libFuzzer target: the zip directory reader (ZipArchive) and, when the directory is valid,
// the whole torch.save reader (TorchZipReader) on the same bytes.
//
// Properties checked besides "no crash, no sanitizer report, no hang": every accepted entry's
// data lies inside the input and before the central directory; every tensor the torch reader
// accepts has its bytes inside the input.
import FuzzSupport
@testable import Inspect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZipArchive(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let file = MappedFile(unownedBytes: bytes, path: "fuzz.pt")
  if let archive = try? ZipArchive(file) {
    for entry in archive.entries {
      guard entry.dataOffset >= 0, entry.size >= 0, entry.dataOffset <= archive.centralDirectoryOffset,
        entry.size <= archive.centralDirectoryOffset - entry.dataOffset, archive.centralDirectoryOffset <= size
      else { fatalError("entry '\(entry.name)' lies outside the archive's data area") }
      _ = archive.data(of: entry).reduce(0 as UInt8) { $0 &+ $1 }
    }
  }
  if let tensors = try? TorchZipReader.readTensors(from: file) {
    for tensor in tensors {
      switch tensor.layout {
      case .contiguous(let offset, let length):
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
          fatalError("tensor '\(tensor.name)' lies outside the file")
        }
      case .strided(let storageOffset, let storageLength, _, _, _):
        guard storageOffset >= 0, storageLength >= 0, storageOffset <= size, storageLength <= size - storageOffset
        else { fatalError("storage of '\(tensor.name)' lies outside the file") }
      }
    }
  }
  return 0
}

@main enum FuzzZipArchive {
  static func main() { runFuzzer(fuzzZipArchive) }
}
