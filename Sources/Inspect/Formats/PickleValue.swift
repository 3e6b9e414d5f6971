/// A value on the restricted pickle interpreter's stack: data only, never an object with code.
///
/// Tuples are immutable values. Lists and dicts are shared references, as in Python, so a memo
/// entry and the stack see the same container; but a container is *frozen* once it is placed
/// inside another value, and mutating a frozen container is refused. `pickle` itself always
/// fills a container completely before referring to it from anywhere else, so real files never
/// hit this rule; it makes reference cycles impossible and keeps every value's nesting depth
/// exact, so depth limits hold and nothing recurses without bound.
indirect enum PickleValue {
  case none
  case bool(Bool)
  case int(Int64)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple(PickleTuple)
  case list(PickleList)
  case dict(PickleDict)
  /// An allowlisted global, not yet used.
  case global(PickleGlobal)
  /// A storage record named by a persistent id.
  case storage(PickleStorage)
  /// A tensor built by a rebuild function.
  case tensor(PickleTensor)

  /// Nesting depth: 0 for scalars, 1 + the deepest item for containers.
  var depth: Int {
    switch self {
    case .tuple(let tuple): return tuple.depth
    case .list(let list): return list.depth
    case .dict(let dict): return dict.depth
    default: return 0
    }
  }

  /// Marks a container as nested (immutable from now on); no effect on other values.
  func freeze() {
    switch self {
    case .list(let list): list.isFrozen = true
    case .dict(let dict): dict.isFrozen = true
    default: break
    }
  }

  /// ``typeDescription`` with an English article: `a list`, `an OrderedDict`.
  var typeWithArticle: String {
    let text = typeDescription
    let startsWithVowel = text.first.map { "aeiouAEIOU".contains($0) } ?? false
    return (startsWithVowel ? "an " : "a ") + text
  }

  /// A short description of the value's type for messages (`int`, `tuple[3]`, `OrderedDict`…).
  var typeDescription: String {
    switch self {
    case .none: return "None"
    case .bool: return "bool"
    case .int: return "int"
    case .float: return "float"
    case .string: return "str"
    case .bytes: return "bytes"
    case .tuple(let tuple): return "tuple[\(tuple.items.count)]"
    case .list: return "list"
    case .dict(let dict): return dict.isOrdered ? "OrderedDict" : "dict"
    case .global(let global): return "global \(global.qualifiedName)"
    case .storage: return "storage"
    case .tensor: return "tensor"
    }
  }
}

/// An immutable tuple with its nesting depth.
struct PickleTuple {
  /// The items, in order.
  let items: [PickleValue]
  /// 1 + the deepest item's depth.
  let depth: Int

  /// Makes a tuple; the caller checks `depth` against the nesting limit.
  init(_ items: [PickleValue]) {
    self.items = items
    self.depth = 1 + (items.map(\.depth).max() ?? 0)
  }
}

/// A Python list under construction (`EMPTY_LIST` + `APPEND(S)`).
final class PickleList {
  /// The items, in order.
  var items: [PickleValue] = []
  /// Set once the list is placed inside another value.
  var isFrozen = false
  /// 1 + the deepest item's depth.
  var depth = 1
}

/// A dict key: only the hashable scalar types a state dict can use, compared as Python would
/// (`True == 1`).
enum PickleKey: Hashable {
  case none
  case int(Int64)
  case string(String)
  case bytes([UInt8])

  /// The key for `value`, or `nil` when the value's type cannot be a key here.
  init?(_ value: PickleValue) {
    switch value {
    case .none: self = .none
    case .bool(let flag): self = .int(flag ? 1 : 0)
    case .int(let number): self = .int(number)
    case .string(let text): self = .string(text)
    case .bytes(let bytes): self = .bytes(bytes)
    default: return nil
    }
  }
}

/// A Python dict or `collections.OrderedDict` under construction (`EMPTY_DICT` or
/// `OrderedDict()` + `SETITEM(S)`). Keys are unique: a repeated key is refused rather than
/// silently replacing the earlier value as Python would.
final class PickleDict {
  /// The entries, in insertion order.
  var entries: [(key: PickleValue, value: PickleValue)] = []
  /// The keys seen so far.
  var keys: Set<PickleKey> = []
  /// Whether this is an `OrderedDict` (from `collections.OrderedDict()`), not a plain dict.
  let isOrdered: Bool
  /// Set once the dict is placed inside another value.
  var isFrozen = false
  /// 1 + the deepest key's or value's depth.
  var depth = 1

  /// An empty dict.
  init(ordered: Bool) {
    self.isOrdered = ordered
  }

  /// The value stored under the string key `key`, if any.
  subscript(key: String) -> PickleValue? {
    guard keys.contains(.string(key)) else { return nil }
    for entry in entries {
      if case .string(key) = entry.key { return entry.value }
    }
    return nil
  }
}

/// A storage record as named by a persistent id `("storage", class, key, location, numel)`,
/// checked against the archive: the record exists and holds exactly `numel` elements.
struct PickleStorage: Hashable {
  /// The record key (`<prefix>/data/<key>`).
  var key: String
  /// The storage class's element type (or untyped bytes).
  var kind: PickleStorageKind
  /// The device the storage was saved from (`cpu`, `cuda:0`); informational.
  var location: String
  /// Elements of `kind` in the storage (bytes for untyped storages).
  var numel: Int
  /// Absolute file offset of the record's first byte.
  var recordOffset: Int
  /// The record's length in bytes (`numel` × element size).
  var recordLength: Int
}

/// A tensor as described by `_rebuild_tensor_v2/v3`: a view into a storage. Bounds are checked
/// by the caller, which knows the tensor's name.
struct PickleTensor: Hashable {
  /// The storage viewed.
  var storage: PickleStorage
  /// The element type.
  var dtype: DType
  /// Offset of the first element, in elements of `dtype`.
  var storageOffset: Int
  /// Sizes, outermost first (`[]` for a scalar).
  var shape: [Int]
  /// Strides in elements, one per dimension, all ≥ 0.
  var strides: [Int]
  /// Offset of the `REDUCE` that built the tensor, within the pickle (for messages).
  var pickleOffset: Int
}

/// One storage record the pickle may refer to, as located in the zip archive.
struct PickleStorageRecord: Sendable, Hashable {
  /// The zip entry name (`ex/data/0`), for messages.
  var entryName: String
  /// Absolute file offset of the record's bytes.
  var offset: Int
  /// The record's length in bytes.
  var length: Int
}

extension PickleGlobal {
  /// `module.name` as Python would print it.
  var qualifiedName: String {
    switch self {
    case .orderedDict: return "collections.OrderedDict"
    case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
    case .rebuildTensorV3: return "torch._utils._rebuild_tensor_v3"
    case .rebuildParameter: return "torch._utils._rebuild_parameter"
    case .storage(.untyped): return "torch.storage.UntypedStorage"
    case .storage(.typed(let dtype)):
      let name = PickleGlobal.typedStorages.first { $0.value == dtype }?.key ?? dtype.rawValue
      return "torch.\(name)"
    case .dtype(let dtype): return "torch.\(dtype.torchName)"
    case .codecsEncode: return "_codecs.encode"
    }
  }
}
