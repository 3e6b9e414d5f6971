/// An element type as named by the safetensors format.
///
/// Raw values are the exact, case-sensitive safetensors spellings. Cases are declared in the
/// order of the reference Rust enum, which the writer uses to order tensors (see
/// ``writerRank``).
public enum DType: String, Sendable, Hashable, CaseIterable, Codable {
  case BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ
  case I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64

  /// The dtype whose safetensors spelling is `bytes` (the UTF-8 between a header's quotes),
  /// found without making a `String`: `DType(rawValue:)` for the bytes of a header entry.
  package init?(spelling bytes: UnsafeRawBufferPointer) {
    guard let key = Self.spellingKey(bytes), let found = Self.spellingKeys.firstIndex(of: key) else { return nil }
    self = Self.allCases[found]
  }

  /// Every case's spelling as a ``spellingKey(_:)``, in `allCases` order.
  private static let spellingKeys: [SpellingKey] = allCases.map { dtype in
    var raw = dtype.rawValue
    return raw.withUTF8 { Self.spellingKey(UnsafeRawBufferPointer($0)) } ?? SpellingKey(low: 0, high: 0, count: 0)
  }

  private struct SpellingKey: Equatable {
    var low: UInt64
    var high: UInt64
    var count: Int
  }

  /// Up to 16 bytes packed into two words (`nil` for longer spellings, which name no dtype).
  private static func spellingKey(_ bytes: UnsafeRawBufferPointer) -> SpellingKey? {
    guard bytes.count <= 16 else { return nil }
    var key = SpellingKey(low: 0, high: 0, count: bytes.count)
    for (index, byte) in bytes.enumerated() {
      if index < 8 {
        key.low |= UInt64(byte) << (8 * UInt64(index))
      } else {
        key.high |= UInt64(byte) << (8 * UInt64(index - 8))
      }
    }
    return key
  }

  /// Bits per element (4 and 6 for the sub-byte formats).
  public var bitsPerElement: Int {
    switch self {
    case .F4: return 4
    case .F6_E2M3, .F6_E3M2: return 6
    case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3, .F8_E8M0, .F8_E4M3FNUZ, .F8_E5M2FNUZ: return 8
    case .I16, .U16, .F16, .BF16: return 16
    case .I32, .U32, .F32: return 32
    case .C64, .F64, .I64, .U64: return 64
    }
  }

  /// Bytes per element for whole-byte types; `nil` for sub-byte types.
  public var bytesPerElement: Int? {
    bitsPerElement % 8 == 0 ? bitsPerElement / 8 : nil
  }

  /// Whether the type holds floating-point values (including FP8 / FP4 / complex).
  public var isFloatingPoint: Bool {
    switch self {
    case .BOOL, .U8, .I8, .I16, .U16, .I32, .U32, .I64, .U64: return false
    default: return true
    }
  }

  /// Position in the reference enum; the reference writer sorts by this, descending.
  package var writerRank: Int {
    DType.allCases.firstIndex(of: self) ?? 0
  }

  /// The PyTorch dtype name (`torch.<name>`), as used in config files.
  public var torchName: String {
    switch self {
    case .BOOL: return "bool"
    case .F4: return "float4_e2m1fn_x2"
    case .F6_E2M3: return "float6_e2m3fn"
    case .F6_E3M2: return "float6_e3m2fn"
    case .U8: return "uint8"
    case .I8: return "int8"
    case .F8_E5M2: return "float8_e5m2"
    case .F8_E4M3: return "float8_e4m3fn"
    case .F8_E8M0: return "float8_e8m0fnu"
    case .F8_E4M3FNUZ: return "float8_e4m3fnuz"
    case .F8_E5M2FNUZ: return "float8_e5m2fnuz"
    case .I16: return "int16"
    case .U16: return "uint16"
    case .F16: return "float16"
    case .BF16: return "bfloat16"
    case .I32: return "int32"
    case .U32: return "uint32"
    case .F32: return "float32"
    case .C64: return "complex64"
    case .F64: return "float64"
    case .I64: return "int64"
    case .U64: return "uint64"
    }
  }

  /// The dtype for a config-file dtype string such as `"bfloat16"` or `"torch.float16"`.
  public init?(torchName raw: String) {
    let name = raw.hasPrefix("torch.") ? String(raw.dropFirst(6)) : raw
    switch name {
    case "float", "float32": self = .F32
    case "half", "float16": self = .F16
    case "bfloat16": self = .BF16
    case "double", "float64": self = .F64
    case "long", "int64": self = .I64
    case "int", "int32": self = .I32
    case "short", "int16": self = .I16
    default:
      guard let match = DType.allCases.first(where: { $0.torchName == name }) else { return nil }
      self = match
    }
  }
}
