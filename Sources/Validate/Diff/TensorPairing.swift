import Inspect

/// Two tensors to compare, or a tensor with no counterpart on the other side.
struct TensorPair: Sendable {
  /// How the pair came about.
  enum Kind: Sendable, Equatable {
    /// Both sides hold the tensor (under the same name, or renamed by the conversion).
    case counterpart
    /// Only A holds it.
    case onlyInA
    /// Only B holds it.
    case onlyInB
    /// A source tensor the conversion leaves out, with the reason.
    case dropped(String)
    /// A conversion tensor that does not come from the source draft, with the reason.
    case added(String)
  }

  var a: DiffSide.Tensor?
  var b: DiffSide.Tensor?
  var kind: Kind
  /// Said in the report next to the comparison.
  var note: String?
}

/// Pairs the tensors of two sides, by name or through the conversion renames.
struct TensorPairing: Sendable {
  var pairs: [TensorPair]
  var mapping: DiffReport.MappingSummary

  /// Pairs `a` with `b` as `mode` asks (see ``DiffOptions/Mapping``).
  static func make(_ a: DiffSide, _ b: DiffSide, mode: DiffOptions.Mapping) -> TensorPairing {
    guard mode == .auto else {
      return byName(a, b, note: "tensors paired by name (--mapping none)")
    }
    let algorithmA = a.speculatorsAlgorithm
    let algorithmB = b.speculatorsAlgorithm
    switch (algorithmA, algorithmB) {
    case (nil, nil):
      return byName(a, b, note: "tensors paired by name (neither side is a Speculators conversion)")
    case (.some, .some):
      return byName(a, b, note: "tensors paired by name (both sides are Speculators conversions)")
    default:
      break
    }
    let sourceIsA = algorithmA == nil
    let source = sourceIsA ? a : b
    let target = sourceIsA ? b : a
    let algorithm = (sourceIsA ? algorithmB : algorithmA) ?? "unknown"
    let plan: CounterpartPlan
    if let manifest = target.manifest {
      plan = CounterpartMapping.recorded(in: manifest, path: target.manifestPath ?? target.path)
    } else {
      do throws(CheckpointError) {
        guard
          let rules = try CounterpartMapping.rules(
            algorithm: algorithm, sourceNames: source.tensors.map(\.name), targetConfig: target.config,
            location: source.path)
        else {
          return byName(a, b, note: "tensors paired by name (no conversion renames known for '\(algorithm)')")
        }
        plan = rules
      } catch {
        return byName(a, b, note: "tensors paired by name (the \(algorithm) renames do not apply: \(error.reason))")
      }
    }
    let pairs = apply(plan, source: source, target: target, sourceIsA: sourceIsA)
    let summary = DiffReport.MappingSummary(
      applied: true, algorithm: plan.algorithm, sourceSide: sourceIsA ? "a" : "b", basis: plan.basis.rawValue,
      description: plan.description)
    return TensorPairing(pairs: pairs, mapping: summary)
  }

  private static func byName(_ a: DiffSide, _ b: DiffSide, note: String) -> TensorPairing {
    var pairs: [TensorPair] = []
    for tensor in a.tensors {
      if let other = b.tensor(named: tensor.name) {
        pairs.append(TensorPair(a: tensor, b: other, kind: .counterpart))
      } else {
        pairs.append(TensorPair(a: tensor, b: nil, kind: .onlyInA))
      }
    }
    for tensor in b.tensors where a.tensor(named: tensor.name) == nil {
      pairs.append(TensorPair(a: nil, b: tensor, kind: .onlyInB))
    }
    return TensorPairing(
      pairs: sorted(pairs),
      mapping: DiffReport.MappingSummary(applied: false, algorithm: nil, sourceSide: nil, basis: nil, description: note))
  }

  private static func apply(
    _ plan: CounterpartPlan, source: DiffSide, target: DiffSide, sourceIsA: Bool
  ) -> [TensorPair] {
    func pair(source s: DiffSide.Tensor?, target t: DiffSide.Tensor?, _ kind: TensorPair.Kind, note: String? = nil)
      -> TensorPair
    {
      TensorPair(a: sourceIsA ? s : t, b: sourceIsA ? t : s, kind: kind, note: note)
    }
    let recordedSources = Dictionary(
      (target.isManifest ? target.manifest?.tensors ?? [] : []).map { ($0.name, $0.source) },
      uniquingKeysWith: { first, _ in first })
    var pairs: [TensorPair] = []
    var claimed = Set<String>()
    for tensor in source.tensors {
      if let reason = plan.dropped[tensor.name] {
        pairs.append(pair(source: tensor, target: nil, .dropped(reason)))
        continue
      }
      let targetName = plan.targetOfSource[tensor.name] ?? tensor.name
      guard var counterpart = target.tensor(named: targetName), !claimed.contains(targetName) else {
        let onlyInSource: TensorPair.Kind = sourceIsA ? .onlyInA : .onlyInB
        let note: String?
        if claimed.contains(targetName) {
          note = "\(targetName) is already paired with another source tensor"
        } else if plan.unplaced.contains(tensor.name) {
          note = "not part of the \(plan.algorithm) layout"
        } else {
          note = targetName == tensor.name ? nil : "the conversion has no \(targetName)"
        }
        pairs.append(pair(source: tensor, target: nil, onlyInSource, note: note))
        continue
      }
      claimed.insert(targetName)
      var note: String? = nil
      if let record = recordedSources[targetName], let digest = record.xxh3 {
        // A manifest holds no values: compare with what it recorded about the source tensor.
        counterpart.dtype = record.dtype ?? counterpart.dtype
        counterpart.recordedDigest = digest
        note = "compared with the manifest's digest of its source tensor"
      }
      pairs.append(pair(source: tensor, target: counterpart, .counterpart, note: note))
    }
    for tensor in target.tensors where !claimed.contains(tensor.name) {
      if let reason = plan.added[tensor.name] {
        pairs.append(pair(source: nil, target: tensor, .added(reason)))
      } else {
        pairs.append(pair(source: nil, target: tensor, sourceIsA ? .onlyInB : .onlyInA))
      }
    }
    return sorted(pairs)
  }

  private static func sorted(_ pairs: [TensorPair]) -> [TensorPair] {
    pairs.sorted { ($0.a?.name ?? $0.b?.name ?? "") < ($1.a?.name ?? $1.b?.name ?? "") }
  }
}
