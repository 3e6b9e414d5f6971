import Foundation
import Inspect

/// What the Hub says about one file at a revision (from `HEAD …/resolve/{revision}/{file}`).
struct HubFileMetadata: Sendable {
  /// The commit the revision pointed to (`X-Repo-Commit`).
  var commit: String
  /// The blob id: the SHA-256 for LFS files (`X-Linked-Etag`), else the git blob id (`ETag`).
  var etag: String
  /// Whether ``etag`` is an LFS SHA-256 that the downloaded bytes must match.
  var isLFS: Bool
  /// The file's size (`X-Linked-Size`, else `Content-Length`), if announced.
  var size: Int64?
  /// Where to GET the bytes (the CDN location of an LFS redirect, else the resolve URL).
  var location: URL
}

/// Talks to the Hub's HTTP API: file metadata, file lists, and the Hub's error codes.
struct HubClient {
  /// The largest file list accepted (a repository with 100,000 files lists in about 6 MB).
  static let maximumListingSize = 16 << 20

  let options: HubOptions
  let http: SourceHTTPClient

  /// `{endpoint}/{org}/{name}/resolve/{revision}/{file}`.
  func resolveURL(_ repository: HubRepository, revision: String, file: String) throws(SourceError) -> URL {
    let path = file.split(separator: "/").map { Self.encode(String($0)) }.joined(separator: "/")
    let text = "\(options.endpoint)/\(repository.id)/resolve/\(Self.encode(revision))/\(path)"
    guard let url = URL(string: text) else {
      throw SourceError(.invalidReference, file: options.endpoint, reason: "not a valid Hub endpoint URL")
    }
    return url
  }

  /// `HEAD` on the resolve URL: commit, blob id, size and download location of `file`.
  /// Returns nil when the file does not exist at that revision (the Hub's `EntryNotFound`).
  func metadata(
    _ repository: HubRepository, revision: String, file: String
  ) throws(SourceError) -> HubFileMetadata? {
    let url = try resolveURL(repository, revision: revision, file: file)
    let label = "\(repository.id): \(file)"
    let head: HTTPResponseHead
    switch http.send(method: "HEAD", url: url, redirects: .sameOrigin) {
    case .completed(let received): head = received
    case .transportFailed(_, let reason): throw unreachable(reason, label: label)
    case .stalled(let reason): throw SourceError(.transfer, file: label, reason: reason)
    case .aborted(let error): throw error
    }
    if head.status == 404 && head.header("x-error-code") == "EntryNotFound" { return nil }
    guard (200..<300).contains(head.status) || head.isRedirect else {
      throw statusError(head, repository: repository, revision: revision, file: file)
    }
    guard let commit = head.header("x-repo-commit"), HubRepository.isCommitHash(commit) else {
      throw SourceError(
        .unexpectedAnswer, file: label,
        reason: "the server at \(options.endpoint) is not a Hugging Face Hub (no X-Repo-Commit header)")
    }
    let linked = head.header("x-linked-etag").flatMap(Self.normalizeETag)
    guard let etag = linked ?? head.header("etag").flatMap(Self.normalizeETag) else {
      throw SourceError(.unexpectedAnswer, file: label, reason: "the Hub sent no usable ETag for the file")
    }
    let sizeText = head.header("x-linked-size") ?? (head.isRedirect ? nil : head.header("content-length"))
    let location = head.isRedirect ? (http.redirectTarget(head) ?? url) : head.url
    return HubFileMetadata(
      commit: commit, etag: etag, isLFS: linked != nil && Self.isSHA256(etag),
      size: sizeText.flatMap { Int64($0) }, location: location)
  }

  /// `GET {endpoint}/api/models/{repo}/revision/{revision}`: the commit and every file name.
  func listFiles(
    _ repository: HubRepository, revision: String
  ) throws(SourceError) -> (commit: String, files: Set<String>) {
    let text = "\(options.endpoint)/api/models/\(repository.id)/revision/\(Self.encode(revision))"
    guard let url = URL(string: text) else {
      throw SourceError(.invalidReference, file: options.endpoint, reason: "not a valid Hub endpoint URL")
    }
    let collector = MemorySink(limit: Self.maximumListingSize, label: repository.id + ": file list")
    let head: HTTPResponseHead
    switch http.send(method: "GET", url: url, sink: collector, redirects: .sameOrigin) {
    case .completed(let received): head = received
    case .transportFailed(_, let reason): throw unreachable(reason, label: repository.id + ": file list")
    case .stalled(let reason): throw SourceError(.transfer, file: repository.id + ": file list", reason: reason)
    case .aborted(let error): throw error
    }
    let body = collector.bytes
    guard head.status == 200 else {
      throw statusError(head, repository: repository, revision: revision, file: nil)
    }
    let json: JSONValue
    do {
      json = try StrictJSONParser.parse(body)
    } catch {
      throw SourceError(
        .unexpectedAnswer, file: repository.id, offset: UInt64(error.offset),
        reason: "the Hub's file list is not valid JSON: \(error.reason)")
    }
    guard let commit = json["sha"]?.stringValue, HubRepository.isCommitHash(commit),
      let siblings = json["siblings"]?.arrayValue
    else {
      throw SourceError(.unexpectedAnswer, file: repository.id, reason: "the Hub's file list has no 'sha' or 'siblings'")
    }
    var files: Set<String> = []
    for sibling in siblings {
      guard let name = sibling["rfilename"]?.stringValue else { continue }
      try HubCache.validateFileName(name, source: repository.id)
      files.insert(name)
    }
    return (commit, files)
  }

  /// The user-facing error for an HTTP status, using the Hub's `X-Error-Code` where present.
  func statusError(
    _ head: HTTPResponseHead, repository: HubRepository, revision: String, file: String?
  ) -> SourceError {
    let code = head.header("x-error-code")
    let label = file.map { "\(repository.id): \($0)" } ?? repository.id
    let status = "HTTP \(head.status)"
    let tokenHint = "set HF_TOKEN or save a token in $HF_HOME/token (`hf auth login`)"
    let reason: String
    switch (head.status, code) {
    case (404, "RevisionNotFound"):
      reason = "revision '\(revision)' not found on \(options.endpoint) (\(status))"
    case (404, "EntryNotFound"):
      reason = "no such file at revision '\(revision)' (\(status))"
    case (404, _):
      reason = "repository not found on \(options.endpoint) (\(status))"
    case (401, "RepoNotFound"):
      reason = options.token == nil
        ? "repository not found on \(options.endpoint), or it is private and needs a token (\(status)); \(tokenHint)"
        : "repository not found on \(options.endpoint), or the token cannot see it (\(status))"
    case (401, _), (403, _):
      if options.token == nil {
        reason = "access denied (\(status)): the repository is gated or private and no token was sent; "
          + "request access at \(options.endpoint)/\(repository.id), then \(tokenHint)"
      } else {
        reason = "access denied (\(status)): the token has no access to this gated or private "
          + "repository; request access at \(options.endpoint)/\(repository.id)"
      }
    case (429, _):
      reason = "rate limited by \(options.endpoint) (\(status)); try again later"
    default:
      let message = head.header("x-error-message").map { ": \($0)" } ?? ""
      reason = "unexpected answer from \(options.endpoint) (\(status))\(message)"
    }
    return SourceError(head.status == 404 ? .notFound : .transfer, file: label, reason: reason)
  }

  func unreachable(_ reason: String, label: String) -> SourceError {
    SourceError(
      .unreachable, file: label,
      reason: "cannot reach \(options.endpoint): \(reason) (use --offline or HF_HUB_OFFLINE=1 to read only the cache)")
  }

  /// Strips `W/` and quotes; nil unless what remains is a safe file name (hex, `-`, `_`, `.`).
  static func normalizeETag(_ raw: String) -> String? {
    var text = raw.trimmingCharacters(in: .whitespaces)
    if text.hasPrefix("W/") { text.removeFirst(2) }
    if text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 {
      text = String(text.dropFirst().dropLast())
    }
    let safe = !text.isEmpty && text.count <= 128 && text != "." && text != ".."
      && text.unicodeScalars.allSatisfy {
        $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
      }
    return safe ? text : nil
  }

  /// Whether `text` is 64 lowercase hex digits.
  static func isSHA256(_ text: String) -> Bool {
    text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }

  /// Percent-encodes one path segment (a revision's `/` becomes `%2F`, as the Hub expects).
  static func encode(_ segment: String) -> String {
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
  }
}
