import COpenBLAS
import Dispatch
import Inspect
import Platform
import Synchronization

/// A linear layer `y = x·Wᵀ (+ b)` whose weight `W` (`[out, in]`, as PyTorch stores it) stays in
/// its stored dtype; each product widens one block of rows at a time into a cache-sized scratch
/// buffer and hands it to OpenBLAS's `sgemm`.
///
/// The blocks are shared out over the machine's cores; each core runs a single-threaded
/// `sgemm` on its own blocks (``BLASThreads`` keeps OpenBLAS from starting threads of its own).
struct Linear: Sendable {
  /// The weight, `[outFeatures, inFeatures]`.
  let weight: StoredTensor
  /// The bias, `[outFeatures]`, when the layer has one.
  let bias: [Float]?

  /// Output features (rows of `W`).
  var outFeatures: Int { weight.info.shape[0] }
  /// Input features (columns of `W`).
  var inFeatures: Int { weight.info.shape[1] }
  /// Bytes of weight read by one product.
  var weightBytes: Int { weight.info.byteCount }

  /// Wraps a 2-D weight (and optional 1-D bias), checking their shapes and dtypes.
  init(weight: StoredTensor, bias: StoredTensor? = nil) throws(ProbeError) {
    let info = weight.info
    guard info.shape.count == 2, info.shape[0] > 0, info.shape[1] > 0 else {
      throw ProbeError(
        .mismatch, file: info.file, tensor: info.name, reason: "expected a 2-D weight, found shape \(info.shape)")
    }
    guard ElementCodec.castTypes.contains(info.dtype) else {
      throw ProbeError(
        .unsupported, file: info.file, tensor: info.name,
        reason: "dtype \(info.dtype.rawValue) is not supported by the probe (F32, F16, BF16)")
    }
    if let bias {
      guard bias.info.shape == [info.shape[0]], ElementCodec.castTypes.contains(bias.info.dtype) else {
        throw ProbeError(
          .mismatch, file: bias.info.file, tensor: bias.info.name,
          reason: "bias shape \(bias.info.shape) does not match the weight's \(info.shape[0]) outputs")
      }
    }
    self.weight = weight
    self.bias = bias?.floats()
  }

  /// Computes `rows` outputs: `output[r, :] = input[r, :]·Wᵀ + b`, row-major.
  func apply(_ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
    let out = outFeatures
    let inner = inFeatures
    let blockRows = Self.blockRows(rows: rows, out: out, inner: inner)
    let blocks = (out + blockRows - 1) / blockRows
    let workers = min(BLASThreads.workers, blocks)
    let next = Atomic<Int>(0)
    let weightAddress = UInt(bitPattern: weight.bytes.baseAddress)
    let weightCount = weight.bytes.count
    let dtype = weight.info.dtype
    let inputAddress = UInt(bitPattern: input)
    let outputAddress = UInt(bitPattern: output)
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * inner)
      defer { scratch.deallocate() }
      let x = UnsafePointer<Float>(bitPattern: inputAddress)!
      let y = UnsafeMutablePointer<Float>(bitPattern: outputAddress)!
      let weightBytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: weightAddress), count: weightCount)
      while true {
        let block = next.add(1, ordering: .relaxed).oldValue
        if block >= blocks { break }
        let first = block * blockRows
        let count = min(blockRows, out - first)
        ElementCodec.widen(weightBytes, as: dtype, from: first * inner, count: count * inner, into: scratch)
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(count), Int32(inner),
          1, x, Int32(inner), scratch, Int32(inner), 0, y + first, Int32(out))
      }
    }
    if let bias {
      bias.withUnsafeBufferPointer { b in
        for r in 0..<rows {
          let row = output + r * out
          for j in 0..<out { row[j] += b[j] }
        }
      }
    }
  }

  /// OpenBLAS runs a product of at most this many multiply-adds (`M·N·K`) through its
  /// small-matrix kernels, without packing either operand; above it, packing dominates a
  /// decode-sized product (a few rows) and the same work takes about three times as long.
  static let smallProductLimit = 1_000_000

  /// The weight rows widened per block for a product of `rows` input rows.
  ///
  /// Decode (a few rows): as many rows as keep each block's product within
  /// ``smallProductLimit``, and the scratch block within about a core's L2. Prefill (many
  /// rows): blocks of about 4 MB, each widened once and multiplied by every row.
  static func blockRows(rows: Int, out: Int, inner: Int) -> Int {
    let small = min(smallProductLimit / max(1, rows * inner), (1 << 19) / inner)
    // Whole multiples of 8 rows suit the kernels' vector width.
    if small >= 8 { return min(out, small & ~7) }
    if small >= 4 { return min(out, small) }
    return min(out, max(8, (1 << 20) / inner))
  }

  /// `apply` on arrays: `input` holds `rows × inFeatures` values.
  func callAsFunction(_ input: [Float], rows: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: rows * outFeatures) { buffer, initialized in
      input.withUnsafeBufferPointer { apply($0.baseAddress!, rows: rows, into: buffer.baseAddress!) }
      initialized = rows * outFeatures
    }
  }
}

/// How many cores share a product, and OpenBLAS kept to one thread per call.
enum BLASThreads {
  /// The number of concurrent workers per product: the online cores.
  static let workers: Int = {
    openblas_set_num_threads(1)
    return System.processorCount
  }()
}
