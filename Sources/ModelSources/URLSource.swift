import Foundation
import Inspect

/// Resolves an `http(s)` URL: one file (`…/model.safetensors`, `…/model.safetensors.index.json`,
/// `…/config.json`) or a directory-like base (`…/model/`, or a last segment without a dot).
///
/// Files land in `<url cache>/<key>/files/<name>`, where `key` is the first 16 hex digits of the
/// SHA-256 of the base URL (without query or fragment); partial downloads wait in
/// `incomplete/`, and `absent/<name>` records a 404, so later runs need no request. A
/// `#sha256=<hex>` fragment on a file URL is checked like a Hub LFS id.
///
/// Header-only and single-tensor needs read safetensors files by HTTP Range instead
/// (`URLSource+Ranges.swift`), as Hub sources do.
struct URLSource {
  let url: URL
  let given: String
  let options: HubOptions
  /// The directory URL, ending in `/`.
  let base: URL
  /// The file the URL names, nil for a directory-like base.
  let fileName: String?
  /// `<url cache>/<key>`.
  let directory: String

  init(url: URL, given: String, options: HubOptions) throws(SourceError) {
    self.url = url
    self.given = given
    self.options = options
    var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
    components?.query = nil
    components?.fragment = nil
    guard let components, let stripped = components.url else {
      throw SourceError(.invalidReference, file: given, reason: "not a valid http(s) URL")
    }
    let last = stripped.path.hasSuffix("/") ? "" : stripped.lastPathComponent
    if last.contains(".") {
      fileName = last.removingPercentEncoding ?? last
      base = stripped.deletingLastPathComponent()
      try HubCache.validateFileName(fileName ?? "", source: given)
    } else {
      fileName = nil
      base = stripped.path.hasSuffix("/") ? stripped : stripped.appendingPathComponent("")
    }
    var hasher = try SHA256Hasher(source: given)
    Array(base.absoluteString.utf8).withUnsafeBytes { hasher.update($0) }
    directory = options.urlCacheDirectory + "/" + String(hasher.finalizeHex().prefix(16))
  }

  var filesDirectory: String { directory + "/files" }

  /// The SHA-256 promised by a `#sha256=<hex>` fragment.
  var fragmentSHA256: String? {
    guard let fragment = url.fragment, fragment.hasPrefix("sha256=") else { return nil }
    let value = String(fragment.dropFirst("sha256=".count)).lowercased()
    return HubClient.isSHA256(value) ? value : nil
  }

  func resolve(_ need: SourceNeeds) throws -> ResolvedSource {
    let layout = fileName.map(WeightSelection.layout(ofFile:))
    // Whole files already in the URL cache are read as they are, whatever the need.
    let check = try WeightSelection.check(
      need.whole, present: listFiles(under: filesDirectory), layout: layout,
      isKnownAbsent: { FileManager.default.fileExists(atPath: directory + "/absent/" + $0) },
      readFile: { FileManager.default.contents(atPath: filesDirectory + "/" + $0).map { [UInt8]($0) } },
      label: given)
    if case .complete(let names) = check {
      return result(names.map { SourceFile(name: $0, localPath: filesDirectory + "/" + $0, downloaded: false) })
    }
    let ranged = need.bytes != .whole && need.weights != .none && fileName != "config.json"
    if ranged, let cached = try fromRangeCache(need, layout: layout) { return cached }
    if options.offline {
      var lacking = "it"
      if case .missing(let what) = check { lacking = what }
      throw SourceError(
        .notFound, file: given,
        reason: "offline (--offline or HF_HUB_OFFLINE=1) and the URL cache at \(directory) lacks \(lacking)")
    }
    try createDirectory(filesDirectory)
    try? writeAtomically(directory + "/url.txt", contents: Array((base.absoluteString + "\n").utf8))
    return ranged ? try downloadRanged(need, layout: layout) : try download(need, layout: layout)
  }

  private func download(_ need: SourceNeeds, layout fixed: WeightFiles.Selection?) throws -> ResolvedSource {
    var files: [SourceFile] = []
    if need.config && fileName != "config.json" {
      if let config = try fetch("config.json", required: fixed == nil && need.weights == .none) {
        files.append(config)
      }
    }
    if fileName == "config.json" {
      guard let config = try fetch("config.json", required: true) else { return result(files) }
      files.append(config)
      return result(files)
    }
    if need.weights == .none { return result(files) }
    var layout = fixed
    if layout == nil {
      // A directory-like base has no file list: probe the names transformers tries, in order.
      for name in WeightFiles.preferredNames {
        if let file = try fetch(name, required: false) {
          files.append(file)
          layout = WeightSelection.layout(ofFile: name)
          break
        }
      }
      guard layout != nil else {
        throw SourceError(
          .notFound, file: given,
          reason: "no model.safetensors(.index.json) or pytorch_model.bin(.index.json) under this URL")
      }
    } else if let layout, case .file(let name) = layout {
      if let file = try fetch(name, required: true) { files.append(file) }
    }
    if case .index(let index) = layout {
      if fixed != nil, let file = try fetch(index, required: true) { files.append(file) }
      guard let bytes = FileManager.default.contents(atPath: filesDirectory + "/" + index) else {
        throw SourceError(.cache, file: filesDirectory + "/" + index, reason: "cannot read the downloaded index")
      }
      for shard in try WeightSelection.shards(inIndex: [UInt8](bytes), for: need.weights, label: given + ": " + index) {
        if let file = try fetch(shard, required: true) { files.append(file) }
      }
    }
    return result(files)
  }

  /// The URL of file `name`: the given URL (without its fragment) for the file it names, else
  /// `name` under the base.
  func fileURL(for name: String) throws(SourceError) -> URL {
    if name == fileName {
      var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
      components?.fragment = nil
      return components?.url ?? url
    }
    let path = name.split(separator: "/").map { HubClient.encode(String($0)) }.joined(separator: "/")
    guard let resolved = URL(string: path, relativeTo: base)?.absoluteURL else {
      throw SourceError(.invalidReference, file: given, reason: "cannot form a URL for '\(name)'")
    }
    return resolved
  }

  /// Records that the server has no file `name` (a 404), so later runs need not ask.
  func markAbsent(_ name: String) {
    let marker = directory + "/absent/" + name
    try? createDirectory((marker as NSString).deletingLastPathComponent)
    _ = FileManager.default.createFile(atPath: marker, contents: Data())
  }

  /// Downloads `name` unless present; nil (and an `absent/` marker) when the server says 404
  /// and the file is optional.
  func fetch(_ name: String, required: Bool) throws(SourceError) -> SourceFile? {
    let finalPath = filesDirectory + "/" + name
    let isNamedFile = name == fileName
    if FileManager.default.fileExists(atPath: finalPath) {
      return SourceFile(name: name, localPath: finalPath, downloaded: false, sha256: isNamedFile ? fragmentSHA256 : nil)
    }
    let fileURL = try fileURL(for: name)
    let label = "\(fileURL.host ?? "url"): \(name)"
    try createDirectory(directory + "/incomplete")
    try createDirectory((finalPath as NSString).deletingLastPathComponent)
    let http = SourceHTTPClient(options: options)
    let downloader = FileDownloader(http: http) { head in Self.statusError(head, url: fileURL) }
    let expected = isNamedFile ? fragmentSHA256 : nil
    let incomplete = directory + "/incomplete/" + name.replacingOccurrences(of: "/", with: "%2F")
    do {
      _ = try downloader.download(
        DownloadRequest(
          url: fileURL, label: label, expectedSize: nil, expectedSHA256: expected,
          maximumSize: DownloadRequest.isMetadata(name) ? DownloadRequest.metadataLimit : nil),
        incompletePath: incomplete, finalPath: finalPath)
    } catch where error.kind == .notFound && !required {
      markAbsent(name)
      return nil
    }
    return SourceFile(name: name, localPath: finalPath, downloaded: true, sha256: expected)
  }

  /// The error for a non-success answer from `url`: `notFound` for a 404, else `io`.
  static func statusError(_ head: HTTPResponseHead, url: URL) -> SourceError {
    SourceError(head.status == 404 ? .notFound : .transfer, file: url.absoluteString, reason: "HTTP \(head.status)")
  }

  private func result(_ files: [SourceFile]) -> ResolvedSource {
    var path = filesDirectory
    if let fileName, fileName != "config.json" { path += "/" + fileName }
    return ResolvedSource(given: given, origin: .url, path: path, url: url.absoluteString, files: files)
  }
}
