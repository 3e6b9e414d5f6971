/// What a storage class global says about the bytes of a storage record.
enum PickleStorageKind: Sendable, Hashable {
  /// A legacy typed storage (`torch FloatStorage`, …): elements of one dtype.
  case typed(DType)
  /// `torch.storage UntypedStorage`: plain bytes; the dtype comes from `_rebuild_tensor_v3`.
  case untyped

  /// Bytes per element of the persistent id's `numel` (1 for untyped storages).
  var elementSize: Int {
    switch self {
    case .typed(let dtype): return dtype.bytesPerElement ?? 1
    case .untyped: return 1
    }
  }

  /// A short name for messages: the dtype, or `untyped`.
  var label: String {
    switch self {
    case .typed(let dtype): return dtype.rawValue
    case .untyped: return "untyped"
    }
  }
}

/// A global (`module.name`) that the restricted interpreter lets a pickle name.
///
/// This is the whole allowlist (`docs/hardening.md`): enough for state dicts written by
/// `torch.save`, nothing that could run code. A global is only a tag: the interpreter
/// pattern-matches what is done with it and never calls anything.
enum PickleGlobal: Sendable, Hashable {
  /// `collections.OrderedDict`; may only be called with `()`.
  case orderedDict
  /// `torch._utils._rebuild_tensor_v2`.
  case rebuildTensorV2
  /// `torch._utils._rebuild_tensor_v3` (dtypes without a legacy storage class).
  case rebuildTensorV3
  /// `torch._utils._rebuild_parameter` (an `nn.Parameter` wrapping a tensor).
  case rebuildParameter
  /// A storage class; only valid as the second item of a persistent id.
  case storage(PickleStorageKind)
  /// A dtype such as `torch.float8_e4m3fn`; only valid as `_rebuild_tensor_v3`'s dtype argument.
  case dtype(DType)
  /// `_codecs.encode`, only with `(str, "latin1")`, and only when enabled in the options.
  case codecsEncode

  /// The outcome of looking a `module name` pair up.
  enum Resolution: Sendable, Equatable {
    /// On the allowlist.
    case allowed(PickleGlobal)
    /// Known to torch, but this reader does not support what it builds (the reason says what).
    case unsupported(String)
    /// Not on the allowlist. `dangerous` is set for names on the scanners' denylists
    /// (imports that can run code, touch files or the network).
    case forbidden(dangerous: Bool)
  }

  /// Legacy typed storage class names and their dtypes (`torch.storage._dtype_to_storage_type_map`).
  static let typedStorages: [String: DType] = [
    "DoubleStorage": .F64, "FloatStorage": .F32, "HalfStorage": .F16, "BFloat16Storage": .BF16,
    "LongStorage": .I64, "IntStorage": .I32, "ShortStorage": .I16, "CharStorage": .I8,
    "ByteStorage": .U8, "BoolStorage": .BOOL, "ComplexFloatStorage": .C64,
  ]

  /// Looks up `module.name`. `allowCodecsEncode` enables the optional `_codecs.encode` form.
  static func resolve(module: String, name: String, allowCodecsEncode: Bool) -> Resolution {
    switch (module, name) {
    case ("collections", "OrderedDict"): return .allowed(.orderedDict)
    case ("torch._utils", "_rebuild_tensor_v2"): return .allowed(.rebuildTensorV2)
    case ("torch._utils", "_rebuild_tensor_v3"): return .allowed(.rebuildTensorV3)
    case ("torch._utils", "_rebuild_parameter"): return .allowed(.rebuildParameter)
    case ("torch.storage", "UntypedStorage"): return .allowed(.storage(.untyped))
    case ("_codecs", "encode") where allowCodecsEncode: return .allowed(.codecsEncode)
    case ("torch._utils", _) where name.hasPrefix("_rebuild_"),
      ("torch._tensor", "_rebuild_from_type_v2"), ("torch.nn.parameter", "Parameter"):
      return .unsupported(
        "torch rebuild function for a tensor kind this reader does not support (quantized, sparse, "
          + "nested, meta, subclass or stateful parameter)")
    case ("torch", _):
      if let dtype = typedStorages[name] { return .allowed(.storage(.typed(dtype))) }
      if name == "ComplexDoubleStorage" {
        return .unsupported("complex128 storages are not supported (no safetensors dtype)")
      }
      if name.hasPrefix("Q"), name.hasSuffix("Storage") {
        return .unsupported("quantized storages are not supported")
      }
      if let dtype = DType(torchName: name), dtype.torchName == name, dtype.bytesPerElement != nil {
        return .allowed(.dtype(dtype))
      }
      if unsupportedDtypes.contains(name) {
        return .unsupported("dtype torch.\(name) is not supported")
      }
      return .forbidden(dangerous: isDangerous(module: module, name: name))
    default:
      return .forbidden(dangerous: isDangerous(module: module, name: name))
    }
  }

  /// Torch dtype names that exist but have no whole-byte safetensors equivalent here.
  private static let unsupportedDtypes: Set<String> = [
    "complex128", "complex32", "float4_e2m1fn_x2", "bits1x8", "bits2x4", "bits4x2", "bits8",
    "bits16", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "uint1", "uint2", "uint3",
    "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4", "int5", "int6", "int7",
  ]

  /// Modules whose every name is dangerous (they run commands, load code, touch files or the
  /// network), after the picklescan and modelscan denylists.
  private static let dangerousModules: Set<String> = [
    "os", "posix", "nt", "subprocess", "sys", "socket", "runpy", "shutil", "ctypes", "pickle",
    "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "pty", "webbrowser",
    "importlib", "types", "code", "codeop", "pdb", "bdb", "commands", "multiprocessing",
    "asyncio", "signal", "httplib", "http", "urllib", "requests", "aiohttp", "ftplib", "smtplib",
    "telnetlib", "pkgutil", "zipimport", "_io", "io", "tempfile", "glob", "platform", "venv",
    "ensurepip", "distutils", "setuptools", "pip", "site", "ssl", "select", "threading",
    "_thread", "gc", "inspect", "sysconfig",
  ]

  /// Individual dangerous names in otherwise ordinary modules.
  private static let dangerousNames: Set<String> = [
    "builtins.eval", "builtins.exec", "builtins.compile", "builtins.open", "builtins.getattr",
    "builtins.setattr", "builtins.delattr", "builtins.apply", "builtins.breakpoint",
    "builtins.__import__", "builtins.input", "builtins.globals", "builtins.locals", "builtins.vars",
    "builtins.execfile", "builtins.file", "builtins.memoryview",
    "__builtin__.eval", "__builtin__.exec", "__builtin__.compile", "__builtin__.open",
    "__builtin__.getattr", "__builtin__.setattr", "__builtin__.apply", "__builtin__.__import__",
    "__builtin__.execfile", "__builtin__.file",
    "operator.attrgetter", "operator.itemgetter", "operator.methodcaller",
    "functools.partial", "functools.reduce", "logging.FileHandler", "torch.load",
    "torch.serialization.load", "torch.hub.load", "torch.jit.load", "numpy.load",
    "numpy.testing._private.utils.runstring", "timeit.timeit", "code.InteractiveInterpreter",
  ]

  /// Whether `module.name` is on the denylist (used only to grade a refusal).
  static func isDangerous(module: String, name: String) -> Bool {
    let root = module.split(separator: ".", maxSplits: 1).first.map(String.init) ?? module
    return dangerousModules.contains(module) || dangerousModules.contains(root)
      || dangerousNames.contains(module + "." + name)
  }
}
