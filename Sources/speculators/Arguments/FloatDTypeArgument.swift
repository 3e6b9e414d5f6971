import ArgumentParser
import Inspect

/// A `--dtype` value: the float dtype convert writes, in any of the spellings people use for it
/// (`bf16`, `bfloat16`, `torch.bfloat16`, `BF16`; `fp16`, `half`, ...; `fp32`, `float`, ...).
struct FloatDTypeArgument: ExpressibleByArgument, Sendable {
  /// The dtype.
  var dtype: DType

  /// Every accepted spelling (lowercased; `torch.` may precede any of them) and its dtype.
  static let spellings: [(String, DType)] = [
    ("float32", .F32), ("fp32", .F32), ("f32", .F32), ("float", .F32),
    ("float16", .F16), ("fp16", .F16), ("f16", .F16), ("half", .F16),
    ("bfloat16", .BF16), ("bf16", .BF16),
  ]

  init?(argument: String) {
    var name = argument.lowercased()
    if name.hasPrefix("torch.") { name.removeFirst("torch.".count) }
    guard let match = Self.spellings.first(where: { $0.0 == name }) else { return nil }
    dtype = match.1
  }

  static var allValueStrings: [String] { ["float32", "float16", "bfloat16"] }

  static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }

  /// The accepted forms, for help and errors.
  static let acceptedForms =
    "float32 (fp32, f32, float), float16 (fp16, f16, half) or bfloat16 (bf16), optionally as torch.NAME"
}

extension FloatDTypeArgument {
  /// Parses `text`, or throws an error listing the accepted forms (for `@Option(transform:)`).
  static func parse(_ text: String) throws -> Self {
    guard let value = Self(argument: text) else {
      throw ValidationError("'\(text)' is not a float dtype; use \(acceptedForms)")
    }
    return value
  }
}
