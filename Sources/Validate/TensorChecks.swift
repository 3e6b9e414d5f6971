import Inspect

/// Expected vs present tensors (``ExpectedTensors``): missing, unexpected,
/// shapes, dtypes and the decoder-layer count. Header only.
enum TensorChecks {
  /// Runs every tensor check against `table`; returns the layer-count result so that other
  /// checks do not report tensors of wholly absent layers again.
  @discardableResult
  static func check(_ run: VerificationRun, table: ExpectedTensors.TensorSet) -> LayerCount.Result {
    let layers = LayerCount.check(run, table: table)
    checkMissing(run, table: table, absentLayers: layers.absent)
    checkUnexpected(run, table: table, extraLayers: layers.extra)
    checkShapes(run, table: table)
    checkDTypes(run, table: table)
    return layers
  }

  private static func checkMissing(
    _ run: VerificationRun, table: ExpectedTensors.TensorSet, absentLayers: Set<Int>
  ) {
    run.ran(.tensorsMissing)
    for tensor in table.tensors where tensor.presence == .required && !run.has(tensor.name) {
      if let layer = tensor.layer, absentLayers.contains(layer) { continue }  // layers.count reports it
      let shape = formatShape(tensor.shapes[0])
      run.report(
        .tensorsMissing, .error, tensor: tensor.name, expected: shape, found: "absent",
        "tensor '\(tensor.name)': expected \(shape) = \(tensor.rule), found absent")
    }
  }

  private static func checkUnexpected(
    _ run: VerificationRun, table: ExpectedTensors.TensorSet, extraLayers: Set<Int>
  ) {
    run.ran(.tensorsUnexpected)
    for tensor in run.view.tensors where table.tensor(named: tensor.name) == nil {
      if let layer = table.layerIndex(of: tensor.name), extraLayers.contains(layer) { continue }
      let found = "\(tensor.dtype.rawValue) \(formatShape(tensor.shape))"
      run.report(
        .tensorsUnexpected, .error, tensor: tensor.name, expected: "absent", found: found,
        "tensor '\(tensor.name)': expected absent (not a tensor of \(table.layout.rawValue)), found \(found)"
          + hint(for: tensor.name, layout: table.layout))
    }
  }

  private static func hint(for name: String, layout: ExpectedTensors.Layout) -> String {
    if layout == .speculatorsEagle3 && name.hasPrefix("midlayer.") {
      return "; raw EAGLE-3 name: a conversion must rename midlayer. to layers.0."
    }
    if layout == .speculatorsEagle && (name.hasPrefix("embed_tokens.") || name.hasPrefix("lm_head.")) {
      return "; eagle drafts take embeddings and lm_head from the verifier"
    }
    if layout == .speculatorsEagle && (name.hasPrefix("fc.") || name.hasPrefix("layers.")) {
      return "; raw EAGLE name: a conversion must rename fc. to fusion_fc. and layers.0. to transformer."
    }
    return ""
  }

  private static func checkShapes(_ run: VerificationRun, table: ExpectedTensors.TensorSet) {
    run.ran(.tensorsShape)
    for expected in table.tensors where expected.presence != .vocabMap {
      guard let tensor = run.view.tensor(named: expected.name), !expected.shapes.contains(tensor.shape)
      else { continue }
      let wanted = expected.shapes.map(formatShape).joined(separator: " or ")
      let found = formatShape(tensor.shape)
      run.report(
        .tensorsShape, .error, tensor: expected.name, expected: wanted, found: found,
        "tensor '\(expected.name)': shape expected \(wanted) = \(expected.rule), found \(found)"
          + geometryNote(expected.name, table: table))
    }
  }

  private static func geometryNote(_ name: String, table: ExpectedTensors.TensorSet) -> String {
    let g = table.geometry
    if name == "fc.weight" || name == "fusion_fc.weight" {
      return " (H = \(g.hiddenSize), TH = \(g.targetHiddenSize), A = \(g.auxStateCount))"
    }
    if name == "lm_head.weight" || name == "embed_tokens.weight" {
      return " (V = \(g.vocabSize), DV = \(g.draftVocabSize), H = \(g.hiddenSize))"
    }
    return ""
  }

  private static func checkDTypes(_ run: VerificationRun, table: ExpectedTensors.TensorSet) {
    run.ran(.tensorsDType)
    for expected in table.tensors where expected.kind == .float {
      guard let tensor = run.view.tensor(named: expected.name), !tensor.dtype.isFloatingPoint else {
        continue
      }
      run.report(
        .tensorsDType, .error, tensor: tensor.name, expected: "a floating-point dtype",
        found: tensor.dtype.rawValue,
        "tensor '\(tensor.name)': dtype expected floating point, found \(tensor.dtype.rawValue)")
    }
  }
}

/// `layers.count`: the decoder layers present are exactly `0..<num_hidden_layers`.
enum LayerCount {
  /// Layers the config declares but no tensor has, and layers present beyond the config.
  struct Result {
    var absent: Set<Int> = []
    var extra: Set<Int> = []
  }

  static func check(_ run: VerificationRun, table: ExpectedTensors.TensorSet) -> Result {
    run.ran(.layersCount)
    let key = table.layout.isSpeculators ? "transformer_layer_config.num_hidden_layers" : "num_hidden_layers"
    let declared = table.geometry.layerCount
    guard table.indexedLayers else {
      // One unindexed decoder (`transformer.` / `midlayer.`): the model class has exactly one.
      if declared != 1 {
        run.report(
          .layersCount, .error, key: key, expected: "1", found: String(declared),
          "\(key): expected 1 (\(table.layout.rawValue) has exactly one decoder layer, "
            + "'\(table.layerPrefix)*'), found \(declared)")
      }
      return Result()
    }
    var present: [Int: Int] = [:]
    for tensor in run.view.tensors {
      if let index = table.layerIndex(of: tensor.name) { present[index, default: 0] += 1 }
    }
    let expected = Set(0..<declared)
    var result = Result()
    result.absent = expected.subtracting(present.keys)
    result.extra = Set(present.keys).subtracting(expected)
    guard !result.absent.isEmpty || !result.extra.isEmpty else { return result }
    let found = present.keys.sorted()
    var detail: [String] = []
    if !result.absent.isEmpty {
      let names = result.absent.sorted().map { "\(table.layerPrefix)\($0).*" }
      detail.append(
        "no tensors for " + names.joined(separator: ", ") + " (those layers would run with random weights)")
    }
    if !result.extra.isEmpty {
      let names = result.extra.sorted().map { "\(table.layerPrefix)\($0).* (\(present[$0] ?? 0) tensors)" }
      detail.append(
        "tensors beyond the declared layers: " + names.joined(separator: ", ") + " (never loaded)")
    }
    run.report(
      .layersCount, .error, key: key, expected: "layers 0..<\(declared)",
      found: "layers \(formatShape(found))",
      "\(key) = \(declared): expected decoder layers \(formatShape(Array(0..<declared))), found "
        + "\(formatShape(found)); " + detail.joined(separator: "; "))
    return result
  }
}
