import Foundation
import Inspect

/// Header-only and single-tensor reads of a URL source (``SourceNeeds/Bytes/headers``,
/// ``SourceNeeds/Bytes/tensors(_:)``), as for Hub sources: `config.json` and an index are whole
/// files in the URL cache; each safetensors file is read by HTTP Range through the one
/// ``RangedFileFetcher`` (same limits, range cache and handling of servers that ignore `Range`)
/// into `<ranges>/urls/<key>/`, and the result is a stand-in directory.
///
/// A safetensors file is read by range when a `HEAD` gives its size and something that
/// identifies its bytes (an `ETag`, else the URL's `#sha256=`, else `Last-Modified`); otherwise
/// it is downloaded whole, since cached pieces of it could not be told from a changed file's.
extension URLSource {
  /// The key of URL stand-ins in the range cache (a URL has no commit; pieces are keyed by the
  /// file's ETag).
  static let rangeKey = "url"

  /// `<ranges>/urls/<key>`, the same key as the URL cache folder.
  var rangeCache: RangeCache {
    RangeCache(root: options.rangeCacheDirectory + "/urls/" + (directory as NSString).lastPathComponent)
  }

  private var fetcher: RangedFileFetcher {
    RangedFileFetcher(
      cache: rangeCache, key: Self.rangeKey, http: SourceHTTPClient(options: options), progress: options.progress,
      statusError: { head, file in Self.statusError(head, url: file.location) })
  }

  /// Where the selected weights layout of a directory-like base is remembered.
  private var selectionPath: String { rangeCache.standInDirectory(commit: Self.rangeKey) + "/.weights" }

  /// The stand-in directory from the caches alone, or nil when something is missing.
  func fromRangeCache(_ need: SourceNeeds, layout fixed: WeightFiles.Selection?) throws -> ResolvedSource? {
    var files: [SourceFile] = []
    if need.config {
      if FileManager.default.fileExists(atPath: filesDirectory + "/config.json") {
        files.append(SourceFile(name: "config.json", localPath: filesDirectory + "/config.json", downloaded: false))
      } else if !FileManager.default.fileExists(atPath: directory + "/absent/config.json") {
        return nil
      }
    }
    var layout = fixed
    if layout == nil, let text = try? String(contentsOfFile: selectionPath, encoding: .utf8),
      let first = text.split(separator: "\n").first
    {
      layout = WeightSelection.layout(ofFile: String(first))
    }
    guard let layout else { return nil }
    var weights: [String]
    switch layout {
    case .file(let name):
      weights = [name]
    case .index(let index):
      guard let bytes = FileManager.default.contents(atPath: filesDirectory + "/" + index) else { return nil }
      files.append(SourceFile(name: index, localPath: filesDirectory + "/" + index, downloaded: false))
      weights = try WeightSelection.shards(inIndex: [UInt8](bytes), for: need.weights, label: given + ": " + index)
    }
    let fetcher = fetcher
    for name in weights {
      if FileManager.default.fileExists(atPath: filesDirectory + "/" + name) {
        files.append(SourceFile(name: name, localPath: filesDirectory + "/" + name, downloaded: false))
        continue
      }
      guard name.hasSuffix(".safetensors"),
        let file = try fetcher.cached(name, need: need, vouchedSHA256: { _ in name == fileName ? fragmentSHA256 : nil })
      else { return nil }
      files.append(file)
    }
    return try standInResult(files)
  }

  /// Reads config.json and an index whole, and each safetensors file's header (and the
  /// tensors `need` asks for) by range.
  func downloadRanged(_ need: SourceNeeds, layout fixed: WeightFiles.Selection?) throws -> ResolvedSource {
    var files: [SourceFile] = []
    if need.config, let config = try fetch("config.json", required: false) { files.append(config) }
    var layout = fixed
    var probed: [String: Lookup] = [:]
    if layout == nil {
      // A directory-like base has no file list: probe the names transformers tries, in order,
      // asking only for the metadata of a safetensors file.
      probing: for name in WeightFiles.preferredNames {
        if name.hasSuffix(".safetensors") {
          let lookup = try lookUp(name)
          if case .absent = lookup {
            markAbsent(name)
            continue probing
          }
          probed[name] = lookup
          layout = .file(name)
          break probing
        }
        if let file = try fetch(name, required: false) {
          if name.hasSuffix(".index.json") { files.append(file) }
          layout = WeightSelection.layout(ofFile: name)
          break probing
        }
      }
      guard layout != nil else {
        throw SourceError(
          .notFound, file: given,
          reason: "no model.safetensors(.index.json) or pytorch_model.bin(.index.json) under this URL")
      }
    }
    var weights: [String] = []
    switch layout {
    case .file(let name):
      weights = [name]
    case .index(let index):
      if fixed != nil, let file = try fetch(index, required: true) { files.append(file) }
      guard let bytes = FileManager.default.contents(atPath: filesDirectory + "/" + index) else {
        throw SourceError(.cache, file: filesDirectory + "/" + index, reason: "cannot read the downloaded index")
      }
      weights = try WeightSelection.shards(inIndex: [UInt8](bytes), for: need.weights, label: given + ": " + index)
    case nil:
      break
    }
    let fetcher = fetcher
    for name in weights {
      var remote: RemoteFile?
      if name.hasSuffix(".safetensors") {
        let lookup: Lookup
        if let known = probed[name] { lookup = known } else { lookup = try lookUp(name) }
        switch lookup {
        case .absent:
          throw SourceError(.notFound, file: try fileURL(for: name).absoluteString, reason: "HTTP 404")
        case .ranged(let file): remote = file
        case .wholeOnly: break
        }
      }
      if let remote {
        files.append(try fetcher.fetch(remote, need: need))
      } else if let file = try fetch(name, required: true) {
        // Pickle checkpoints keep their directory at the end of a zip, and a file without a
        // size or validator cannot be cached by range: read whole.
        files.append(file)
      }
    }
    if fixed == nil, case .some(let chosen) = layout {
      let name: String
      switch chosen {
      case .file(let file): name = file
      case .index(let index): name = index
      }
      try writeAtomically(selectionPath, contents: Array((name + "\n").utf8))
    }
    return try standInResult(files)
  }

  /// What a `HEAD` says about a safetensors file.
  enum Lookup {
    /// The server has no such file (404).
    case absent
    /// Its size and validator are known: read it by range.
    case ranged(RemoteFile)
    /// It exists, but without a size or a validator (or `HEAD` is not allowed): read it whole.
    case wholeOnly
  }

  /// `HEAD` of file `name` (redirects followed).
  func lookUp(_ name: String) throws(SourceError) -> Lookup {
    let location = try fileURL(for: name)
    let label = "\(location.host ?? "url"): \(name)"
    let head: HTTPResponseHead
    switch SourceHTTPClient(options: options).send(method: "HEAD", url: location, redirects: .all) {
    case .completed(let received): head = received
    case .transportFailed(_, let reason):
      throw SourceError(.unreachable, file: label, reason: "cannot reach \(HTTPTransport.hostName(location)): \(reason)")
    case .stalled(let reason): throw SourceError(.transfer, file: label, reason: reason)
    case .aborted(let error): throw error
    }
    if head.status == 404 { return .absent }
    if head.status == 405 || head.status == 501 { return .wholeOnly }
    guard (200..<300).contains(head.status) else { throw Self.statusError(head, url: location) }
    let vouched = name == fileName ? fragmentSHA256 : nil
    guard let size = head.header("content-length").flatMap({ Int64($0) }), size >= 0 else { return .wholeOnly }
    var validator = head.header("etag").flatMap(HubClient.normalizeETag) ?? vouched
    if validator == nil, let modified = head.header("last-modified") {
      var hasher = try SHA256Hasher(source: label)
      Array("\(modified)\n\(size)".utf8).withUnsafeBytes { hasher.update($0) }
      validator = "modified-" + hasher.finalizeHex().prefix(32)
    }
    guard let validator else { return .wholeOnly }
    return .ranged(
      RemoteFile(name: name, label: label, location: head.url, size: size, etag: validator, vouchedSHA256: vouched))
  }

  private func standInResult(_ files: [SourceFile]) throws -> ResolvedSource {
    let (directory, placed) = try fetcher.placeInStandInDirectory(files)
    var path = directory
    if let fileName { path += "/" + fileName }
    return ResolvedSource(given: given, origin: .url, path: path, url: url.absoluteString, files: placed)
  }
}
