import Inspect

/// `--manifest`: re-hashes every file (SHA-256) and tensor (XXH3-128) and compares them with
/// `speculators-manifest.json`.
enum ManifestChecks {
  static let ids: [CheckID] = [
    .manifestMissingFile, .manifestFileDigest, .manifestUnlistedFile, .manifestTensorDigest,
    .manifestMissingTensor, .manifestUnlistedTensor, .manifestTensorDescriptor,
  ]

  /// The manifest path for `run`, or `nil` when none was asked for.
  static func manifestPath(_ run: VerificationRun) -> String? {
    switch run.options.manifest {
    case .none: return nil
    case .checkpointDirectory: return FileSystem.join(run.checkpoint.directory, AuditManifest.fileName)
    case .file(let path):
      return FileSystem.resolve(path, against: run.options.workingDirectory ?? FileSystem.currentDirectory())
    }
  }

  /// A manifest read ahead of the checks (so that the bytes it covers can be read with the
  /// content checks'), or the error reading it will throw when the checks run.
  struct Prepared {
    /// The manifest's path.
    let path: String
    /// The parsed manifest.
    let document: Result<AuditManifest.Digests, CheckpointError>

    /// The listed files that exist, with their paths.
    func presentFiles(_ run: VerificationRun) -> [(AuditManifest.Digests.File, String)] {
      guard case .success(let manifest) = document else { return [] }
      return manifest.files.compactMap { file in
        let path = FileSystem.join(run.checkpoint.directory, file.name)
        return FileSystem.isRegularFile(path) ? (file, path) : nil
      }
    }
  }

  /// Reads the manifest at `manifestPath`, recording nothing.
  static func prepare(_ run: VerificationRun, manifestPath: String) -> Prepared {
    guard FileSystem.isRegularFile(manifestPath) else {
      return Prepared(
        path: manifestPath,
        document: .failure(CheckpointError(.notFound, file: manifestPath, reason: "manifest not found")))
    }
    return Prepared(
      path: manifestPath,
      document: Result { () throws(CheckpointError) in try AuditManifest.Digests(contentsOf: manifestPath) })
  }

  /// What the manifest checks read: the listed files that exist and every tensor, when the
  /// manifest could be read.
  static func request(_ run: VerificationRun, _ prepared: Prepared)
    -> (files: [String], tensors: [TensorInfo])
  {
    guard case .success = prepared.document else { return ([], []) }
    return (prepared.presentFiles(run).map(\.1), run.checkpoint.tensors)
  }

  /// Compares the files and tensors with the manifest, taking their digests from `scan`.
  static func check(_ run: VerificationRun, _ prepared: Prepared, scan: TensorScan) throws(CheckpointError) {
    let manifest = try prepared.document.get()
    run.ran(ids)
    try checkFiles(run, manifest, path: prepared.path, scan: scan)
    try checkTensors(run, manifest, scan: scan)
  }

  private static func checkFiles(
    _ run: VerificationRun, _ manifest: AuditManifest.Digests, path manifestPath: String, scan: TensorScan
  )
    throws(CheckpointError)
  {
    let directory = run.checkpoint.directory
    var present: [(AuditManifest.Digests.File, String)] = []
    for file in manifest.files {
      let path = FileSystem.join(directory, file.name)
      if FileSystem.isRegularFile(path) {
        present.append((file, path))
      } else {
        run.report(
          .manifestMissingFile, .error, file: file.name,
          expected: "present (sha256 \(file.sha256.prefix(12))…)",
          found: "absent", "file '\(file.name)': expected present as listed in the manifest, found absent")
      }
    }
    var seen = Set<String>()
    let paths = present.map(\.1).filter { seen.insert($0).inserted }
    var digests: [String: String] = [:]
    for index in TensorScan.largestFirst(paths.map(CheckpointHasher.fileSize)) {
      digests[paths[index]] = try scan.fileDigest(paths[index])
    }
    for (file, path) in present {
      let size = FileSystem.size(of: path)
      if let expected = file.size, expected != size {
        run.report(
          .manifestFileDigest, .error, file: file.name, expected: "\(expected) bytes", found: "\(size) bytes",
          "file '\(file.name)': size expected \(expected) bytes (manifest), found \(size)")
      } else if let digest = digests[path], digest != file.sha256 {
        run.report(
          .manifestFileDigest, .error, file: file.name, expected: file.sha256, found: digest,
          "file '\(file.name)': sha256 expected \(file.sha256) (manifest), found \(digest)")
      }
    }
    // Files of the checkpoint (and weights/config files in its directory) the manifest omits.
    let listed = Set(manifest.files.map(\.name))
    let manifestName = FileSystem.lastComponent(of: manifestPath)
    var candidates = Set(run.checkpoint.files.filter { $0.kind != .manifest }.map(\.name))
    for name in FileSystem.entries(of: directory) where isWeightsOrConfig(name) {
      if FileSystem.isRegularFile(FileSystem.join(directory, name)) { candidates.insert(name) }
    }
    for name in candidates.sorted() where !listed.contains(name) && name != manifestName && name != AuditManifest.fileName {
      let severity: Severity = isWeightsOrConfig(name) ? .error : .warning
      run.report(
        .manifestUnlistedFile, severity, file: name, expected: "listed in the manifest", found: "unlisted",
        "file '\(name)': expected listed in the manifest, found unlisted"
          + (severity == .error ? " (loaders read it)" : ""))
    }
  }

  private static func checkTensors(_ run: VerificationRun, _ manifest: AuditManifest.Digests, scan: TensorScan)
    throws(CheckpointError)
  {
    let tensors = run.checkpoint.tensors
    var values: [String?] = Array(repeating: nil, count: tensors.count)
    for index in TensorScan.largestFirst(tensors.map(\.byteCount)) {
      values[index] = try scan.digest(of: tensors[index])
    }
    let digests = Dictionary(
      zip(tensors.map(\.name), values.compactMap { $0 }), uniquingKeysWith: { first, _ in first })
    var listed = Set<String>()
    for entry in manifest.tensors {
      listed.insert(entry.name)
      guard let tensor = run.checkpoint.tensor(named: entry.name) else {
        run.report(
          .manifestMissingTensor, .error, tensor: entry.name,
          expected: "\(entry.dtype.rawValue) \(formatShape(entry.shape))", found: "absent",
          "tensor '\(entry.name)': expected \(entry.dtype.rawValue) \(formatShape(entry.shape)) as listed in the "
            + "manifest, found absent")
        continue
      }
      var differences: [(String, String, String)] = []
      if tensor.dtype != entry.dtype {
        differences.append(("dtype", entry.dtype.rawValue, tensor.dtype.rawValue))
      }
      if tensor.shape != entry.shape {
        differences.append(("shape", formatShape(entry.shape), formatShape(tensor.shape)))
      }
      let file = run.relativeName(of: tensor.file)
      if let expectedFile = entry.file, expectedFile != file {
        differences.append(("file", expectedFile, file))
      }
      for (what, expected, found) in differences {
        run.report(
          .manifestTensorDescriptor, .error, tensor: entry.name, expected: expected, found: found,
          "tensor '\(entry.name)': \(what) expected \(expected) (manifest), found \(found)")
      }
      if let digest = digests[entry.name], digest != entry.xxh3 {
        run.report(
          .manifestTensorDigest, .error, tensor: entry.name, expected: entry.xxh3, found: digest,
          "tensor '\(entry.name)': xxh3_128 expected \(entry.xxh3) (manifest), found \(digest)")
      }
    }
    for tensor in run.checkpoint.tensors where !listed.contains(tensor.name) {
      let found = "\(tensor.dtype.rawValue) \(formatShape(tensor.shape))"
      run.report(
        .manifestUnlistedTensor, .error, tensor: tensor.name, expected: "absent (not in the manifest)",
        found: found, "tensor '\(tensor.name)': expected absent (not listed in the manifest), found \(found)")
    }
  }

  /// Whether a file name is one loaders read: weights, indexes, configs.
  static func isWeightsOrConfig(_ name: String) -> Bool {
    [".safetensors", ".bin", ".pt", ".pth", ".json"].contains { name.hasSuffix($0) }
  }
}
