import Foundation
import Inspect
import Testing

@testable import Validate

@Suite(.diffScratch) struct DiffTensorBlocksTests {
  private func blocks(_ shape: [Int], _ maxElements: Int) -> [TensorBlock] {
    Array(TensorBlockPlan(shape: shape, maxElements: maxElements))
  }

  @Test(arguments: [
    ([5, 7], 10, [7, 7, 7, 7, 7]), ([5, 7], 14, [14, 14, 7]), ([3, 100], 30, [30, 30, 30, 10, 30, 30, 30, 10, 30, 30, 30, 10]),
    ([2, 3, 4], 100, [24]), ([2, 3, 4], 5, [4, 4, 4, 4, 4, 4]), ([], 8, [1]), ([4, 0, 3], 8, []), ([9], 4, [4, 4, 1]),
  ])
  func plansCoverTheShapeInOrder(shape: [Int], maxElements: Int, counts: [Int]) {
    let plan = blocks(shape, maxElements)
    #expect(plan.map(\.count) == counts)
    var next = 0
    for block in plan {
      #expect(block.start == next)
      #expect(block.count <= max(maxElements, 1))
      next += block.count
    }
    #expect(next == (shape.contains(0) ? 0 : shape.reduce(1, *)))
  }

  @Test func stridedViewsReadTheSameElementsAsTheDenseTensor() throws {
    // Storage holds the 4×3 matrix S (row-major); the tensor is its transpose T = Sᵀ, shape
    // [3, 4], strides [1, 3], as torch saves `s.t()`.
    let directory = try TestCheckpoints.directory()
    let path = directory.appendingPathComponent("storage.bin").path
    let storage: [Float] = (0..<12).map(Float.init)
    let prefix = [UInt8](repeating: 0xAA, count: 16)
    try Data(prefix + storage.flatMap { TestTensor.littleEndian($0.bitPattern) }).write(to: URL(fileURLWithPath: path))
    let tensor = TensorInfo(
      name: "t", dtype: .F32, shape: [3, 4], file: path,
      layout: .strided(storageOffset: 16, storageLength: 48, elementOffset: 0, strides: [1, 3], bigEndian: false))
    let expected: [Float] = (0..<3).flatMap { row in (0..<4).map { column in Float(column * 3 + row) } }
    let reader = TensorReader()
    for maxElements in [1, 2, 3, 4, 5, 12] {
      var gathered: [Float] = []
      for block in TensorBlockPlan(shape: tensor.shape, maxElements: maxElements) {
        let bytes = try reader.bytes(of: tensor.view(of: block))
        #expect(bytes.count == block.count * 4)
        gathered += stride(from: 0, to: bytes.count, by: 4).map { offset in
          Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
        }
      }
      #expect(gathered == expected, "maxElements \(maxElements)")
    }
  }

  @Test func contiguousViewsAreByteRanges() throws {
    let tensor = TensorInfo(name: "t", dtype: .BF16, shape: [4, 6], file: "f", layout: .contiguous(offset: 100, length: 48))
    let views = try TensorBlockPlan(shape: tensor.shape, maxElements: 12).map { try tensor.view(of: $0) }
    #expect(views.map(\.layout) == [.contiguous(offset: 100, length: 24), .contiguous(offset: 124, length: 24)])
  }

  @Test func stridesThatDoNotMatchTheRankAreRefused() {
    let tensor = TensorInfo(
      name: "bad", dtype: .F32, shape: [2, 2], file: "f",
      layout: .strided(storageOffset: 0, storageLength: 16, elementOffset: 0, strides: [1], bigEndian: false))
    let block = TensorBlock(start: 0, count: 2, leadingIndices: [], axis: 0, range: 0..<1)
    #expect(throws: CheckpointError.self) { try tensor.view(of: block) }
    do {
      _ = try tensor.view(of: block)
    } catch {
      #expect(error.description == "f: tensor 'bad': 1 strides for a tensor of rank 2")
    }
  }

  @Test func overflowingStridesAreRefused() {
    let tensor = TensorInfo(
      name: "huge", dtype: .F32, shape: [4, 2], file: "f",
      layout: .strided(storageOffset: 0, storageLength: 16, elementOffset: 0, strides: [Int.max / 2, 1], bigEndian: false))
    let block = TensorBlock(start: 6, count: 2, leadingIndices: [], axis: 0, range: 3..<4)
    #expect(throws: CheckpointError(.malformed, file: "f", tensor: "huge", reason: "view offset overflows")) {
      try tensor.view(of: block)
    }
  }

  @Test func blockBufferGathersPiecesIntoOneBlock() throws {
    let view = TensorInfo(name: "t", dtype: .U8, shape: [6], file: "f", layout: .contiguous(offset: 0, length: 6))
    let buffer = BlockBuffer()
    let source: [UInt8] = [1, 2, 3, 4, 5, 6]
    var seen: [[UInt8]] = []
    try buffer.withBytes(count: 6, of: view, from: { deliver in
      try source.withUnsafeBytes { raw in
        try deliver(UnsafeRawBufferPointer(rebasing: raw[0..<2]))
        try deliver(UnsafeRawBufferPointer(rebasing: raw[2..<3]))
        try deliver(UnsafeRawBufferPointer(rebasing: raw[3..<6]))
      }
    }) { seen.append(Array($0)) }
    #expect(seen == [source])
  }

  @Test func blockBufferRefusesShortAndLongInput() {
    let view = TensorInfo(name: "t", dtype: .U8, shape: [4], file: "f", layout: .contiguous(offset: 0, length: 4))
    let buffer = BlockBuffer()
    let bytes: [UInt8] = [1, 2, 3, 4, 5]
    #expect(throws: CheckpointError(.malformed, file: "f", tensor: "t", reason: "tensor holds fewer bytes than its shape")) {
      try buffer.withBytes(count: 4, of: view, from: { deliver in
        try bytes.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[0..<3])) }
      }) { _ in }
    }
    #expect(throws: CheckpointError(.malformed, file: "f", tensor: "t", reason: "tensor holds more bytes than its shape")) {
      try buffer.withBytes(count: 4, of: view, from: { deliver in
        try bytes.withUnsafeBytes {
          try deliver(UnsafeRawBufferPointer(rebasing: $0[0..<3]))
          try deliver(UnsafeRawBufferPointer(rebasing: $0[3..<5]))
        }
      }) { _ in }
    }
  }
}
