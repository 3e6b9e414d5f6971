import Inspect

/// How ``CheckpointDiffer`` compares two checkpoints.
///
/// By default the comparison is exact: a tensor is equal only when its dtype, shape and bytes
/// are (equal XXH3-128 digests of the dense little-endian bytes). Tensors whose bytes differ are
/// still compared value by value, with zero tolerance, so the report says how they differ.
///
/// ``compareValues`` (`--values`) relaxes this to equality of values within tolerance: a tensor
/// stored as F16 on one side and F32 on the other, holding the same numbers, is then equal, and
/// so are values within `atol + rtol × |b|` (NumPy `isclose` semantics, NaN equal to NaN).
/// Tolerances default to NumPy's (`rtol` 1e-5, `atol` 1e-8) in that mode and are 0 otherwise;
/// giving either tolerance turns ``compareValues`` on.
///
/// ``structureOnly`` compares what the headers say and reads no tensor byte: what a diff of a
/// Hub id or URL does without `--values` or `--download`, since those sides are header-only
/// stand-ins (``PresentBytes``).
public struct DiffOptions: Sendable, Equatable {
  /// How tensor names of the two sides are paired.
  public enum Mapping: String, Sendable, CaseIterable {
    /// When one side is a source draft and the other its Speculators conversion (or the
    /// conversion's manifest), pair each source tensor with the tensor the conversion renamed it
    /// to; tensors the conversion drops or adds are reported as such. Otherwise pair by name.
    case auto
    /// Pair tensors by name only.
    case none
  }

  /// NumPy's default relative tolerance, used with ``compareValues`` when none is given.
  public static let defaultRelativeTolerance = 1e-5
  /// NumPy's default absolute tolerance, used with ``compareValues`` when none is given.
  public static let defaultAbsoluteTolerance = 1e-8

  /// Whether tensors equal in value (within tolerance) count as equal whatever their bytes.
  public private(set) var compareValues: Bool
  /// The relative tolerance in effect.
  public private(set) var relativeTolerance: Double
  /// The absolute tolerance in effect.
  public private(set) var absoluteTolerance: Double
  /// How tensors are paired.
  public var mapping: Mapping
  /// Whether only the structure is compared: configs, metadata, files, tensor names, dtypes
  /// and shapes, with no tensor byte read. A pair of equal dtype and shape is then
  /// ``TensorComparison/Status/bytesNotRead``, a dtype change ``TensorComparison/Status/notComparable``.
  public private(set) var structureOnly: Bool

  /// Creates options. Giving `rtol` or `atol` implies `values`.
  ///
  /// - Throws: `UsageError` naming the flag: a tolerance that is negative or not finite
  ///   (``isValidTolerance(_:)``), or a structure-only comparison that would compare values.
  public init(
    values: Bool = false, rtol: Double? = nil, atol: Double? = nil, mapping: Mapping = .auto, structureOnly: Bool = false
  ) throws(UsageError) {
    compareValues = values || rtol != nil || atol != nil
    relativeTolerance = rtol ?? (compareValues ? Self.defaultRelativeTolerance : 0)
    absoluteTolerance = atol ?? (compareValues ? Self.defaultAbsoluteTolerance : 0)
    self.mapping = mapping
    self.structureOnly = structureOnly
    if structureOnly && compareValues {
      throw UsageError("--values", reason: "a structure-only comparison reads no values")
    }
    for (name, value) in [("rtol", relativeTolerance), ("atol", absoluteTolerance)] where !Self.isValidTolerance(value) {
      throw UsageError("--\(name)", reason: "must be a finite number >= 0, got \(value)")
    }
  }

  /// Whether `value` can be a tolerance: finite and not negative.
  package static func isValidTolerance(_ value: Double) -> Bool {
    value.isFinite && value >= 0
  }
}
