import Foundation
import Inspect

/// What the user named as a model: a local path, a Hugging Face Hub repository at an optional
/// revision, or an `http(s)` URL.
///
/// Parsing follows what users of `transformers` expect: an existing local path always wins, so a
/// directory named `org/name` next to the user is read from disk, and so does a path whose first
/// segment is an existing local directory (a typo there is reported as a missing file); otherwise
/// `org/name` (or `org/name@revision`, or `hf://org/name@revision`) names a Hub repository.
package enum ModelReference: Sendable, Equatable {
  /// A file or directory on this machine.
  case local(path: String)
  /// A Hub model repository; `revision` is a branch, tag or commit (nil means `main`).
  case hub(HubRepository, revision: String?)
  /// A single file (`…/model.safetensors`) or a directory-like base (`…/model/`).
  case url(URL)

  /// Parses `text`; `fileExists` decides whether a local path wins over a Hub id.
  package static func parse(
    _ text: String,
    fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
  ) throws(SourceError) -> ModelReference {
    let lowered = text.lowercased()
    if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
      guard let url = httpURL(text) else {
        throw SourceError(.invalidReference, file: text, reason: "not a valid http(s) URL")
      }
      return .url(url)
    }
    if lowered.hasPrefix("hf://") {
      return try hubReference(String(text.dropFirst(5)), given: text)
    }
    if lowered.hasPrefix("file://") {
      guard let url = URL(string: text), url.isFileURL else {
        throw SourceError(.invalidReference, file: text, reason: "not a valid file URL")
      }
      return .local(path: url.path)
    }
    if let scheme = text.range(of: "://") {
      let name = text[..<scheme.lowerBound]
      throw SourceError(
        .invalidReference, file: text,
        reason: "'\(name)://' sources are not supported; use a local path, a Hub id or an http(s) URL")
    }
    if fileExists(text) || !looksLikeHubID(text) || namesLocalDirectory(text, fileExists: fileExists) {
      return .local(path: text)
    }
    return try hubReference(text, given: text)
  }

  /// `text` as an `http(s)` URL with a host, or `nil` (a Hub endpoint must be one too).
  package static func httpURL(_ text: String) -> URL? {
    let lowered = text.lowercased()
    guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), let url = URL(string: text),
      let host = url.host, !host.isEmpty
    else { return nil }
    return url
  }

  /// Whether the first segment of `text` names an existing local directory (`fx/` in
  /// `fx/verifer-small`): then `text` is a mistyped path, not a Hub id, and no request is made.
  /// (`hf://org/name` always means the Hub.)
  static func namesLocalDirectory(_ text: String, fileExists: (String) -> Bool) -> Bool {
    guard let slash = text.firstIndex(of: "/") else { return false }
    let first = String(text[..<slash])
    return !first.isEmpty && fileExists(first + "/")
  }

  /// Whether `text` has the shape `org/name` or `org/name@revision` (and does not end like a
  /// file name, so a mistyped `drafts/model.safetensors` is reported as a missing file).
  static func looksLikeHubID(_ text: String) -> Bool {
    let id = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0]
    let fileSuffixes = [".safetensors", ".bin", ".pt", ".pth", ".json", ".gguf"]
    guard !fileSuffixes.contains(where: { id.lowercased().hasSuffix($0) }) else { return false }
    return (try? HubRepository(String(id))) != nil
  }

  private static func hubReference(_ text: String, given: String) throws(SourceError) -> ModelReference {
    let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
    let repository: HubRepository
    do {
      repository = try HubRepository(String(parts[0]))
    } catch {
      throw SourceError(error.kind, file: given, reason: error.reason)
    }
    guard parts.count == 2 else { return .hub(repository, revision: nil) }
    let revision = String(parts[1])
    try HubRepository.validateRevision(revision, given: given)
    return .hub(repository, revision: revision)
  }
}
