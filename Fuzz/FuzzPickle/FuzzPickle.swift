// libFuzzer target: the restricted pickle interpreter on arbitrary bytes (taken as data.pkl),
// followed by the torch reader's state-dict naming and view checks on whatever it returns.
//
// The archive around the pickle is simulated: storage records "0"…"3" of 24 (six F32, as in the
// hostile corpus), 0, 64 and 4096 bytes exist. Properties checked besides "no crash, no sanitizer report, no hang": every
// accepted tensor view stays inside its storage record; errors are one line.
import FuzzSupport
@testable import Inspect

private let records: [String: PickleStorageRecord] = [
  "0": PickleStorageRecord(entryName: "archive/data/0", offset: 1000, length: 24),
  "1": PickleStorageRecord(entryName: "archive/data/1", offset: 1024, length: 0),
  "2": PickleStorageRecord(entryName: "archive/data/2", offset: 1088, length: 64),
  "3": PickleStorageRecord(entryName: "archive/data/3", offset: 1152, length: 4096),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  var context = PickleMachine.Context(file: "fuzz.pt", baseOffset: 64, storageRecords: records)
  context.allowCodecsEncode = size > 0 && bytes[size - 1] & 1 == 1
  do throws(CheckpointError) {
    let root = try PickleMachine.run(bytes, context: context)
    _ = PickleMachine.describe(root)
    for (name, tensor) in try TorchZipReader.namedTensors(in: root, file: "fuzz.pt") {
      let info = try TorchZipReader.tensorInfo(name: name, tensor: tensor, bigEndian: size % 2 == 0, file: "fuzz.pt")
      let record = tensor.storage
      switch info.layout {
      case .contiguous(let offset, let length):
        guard offset >= record.recordOffset, length >= 0,
          offset + length <= record.recordOffset + record.recordLength
        else { fatalError("tensor '\(name)' reaches outside its storage") }
      case .strided(let storageOffset, let storageLength, _, _, _):
        guard storageOffset == record.recordOffset, storageLength == record.recordLength else {
          fatalError("tensor '\(name)' names the wrong storage")
        }
      }
    }
  } catch {
    guard !error.reason.contains("\n") else { fatalError("multi-line reason: \(error.reason)") }
  }
  return 0
}

@main enum FuzzPickle {
  static func main() { runFuzzer(fuzzPickle) }
}
