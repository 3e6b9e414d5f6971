import Inspect

/// `shards.index`: a sharded checkpoint's `*.index.json` maps exactly the tensors its shards
/// hold, each to the shard that holds it. Header only.
enum ShardIndexChecks {
  static func check(_ run: VerificationRun) throws(CheckpointError) {
    let indexes = run.checkpoint.files.filter { $0.kind == .index }
    guard !indexes.isEmpty else {
      run.notApplicable([.shardsIndex])
      return
    }
    run.ran(.shardsIndex)
    for index in indexes {
      let json = try VerifierResolution.readJSON(at: index.path)
      guard let map = json["weight_map"]?.objectMembers else {
        run.report(
          .shardsIndex, .error, key: "weight_map", file: index.name, expected: "an object", found: "absent",
          "\(index.name): weight_map expected an object mapping tensor names to shard files, found none")
        continue
      }
      var mapped = Set<String>()
      for (name, value) in map {
        mapped.insert(name)
        guard let shard = value.stringValue else {
          run.report(
            .shardsIndex, .error, tensor: name, file: index.name, expected: "a shard file name",
            found: ConfigChecks.describe(value), "\(index.name): weight_map['\(name)'] expected a file name")
          continue
        }
        guard let tensor = run.checkpoint.tensor(named: name) else {
          run.report(
            .shardsIndex, .error, tensor: name, file: index.name, expected: "held by \(shard)",
            found: "absent",
            "\(index.name): tensor '\(name)' expected in shard '\(shard)', found in no shard")
          continue
        }
        let holder = run.relativeName(of: tensor.file)
        if holder != shard && FileSystem.lastComponent(of: tensor.file) != shard {
          run.report(
            .shardsIndex, .error, tensor: name, file: index.name, expected: shard, found: holder,
            "\(index.name): tensor '\(name)' expected in shard '\(shard)', found in '\(holder)'")
        }
      }
      let shardTensors = run.checkpoint.tensors.filter { !mapped.contains($0.name) }
      for tensor in shardTensors {
        let holder = run.relativeName(of: tensor.file)
        run.report(
          .shardsIndex, .error, tensor: tensor.name, file: index.name, expected: "listed in weight_map",
          found: "held by '\(holder)' but unlisted",
          "\(index.name): tensor '\(tensor.name)' expected in weight_map, found only in shard '\(holder)' "
            + "(loaders never load it)")
      }
      if let total = json["metadata"]?["total_size"]?.intValue {
        let actual = run.checkpoint.tensors.reduce(0) { $0 + $1.byteCount }
        if total != actual {
          run.report(
            .shardsIndex, .warning, key: "metadata.total_size", file: index.name, expected: String(actual),
            found: String(total),
            "\(index.name): metadata.total_size expected \(actual) (sum of tensor bytes), found \(total)")
        }
      }
    }
  }
}
