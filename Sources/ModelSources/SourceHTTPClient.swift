import Foundation
import Inspect

/// HTTP for model sources: adds the token only for the configured endpoint and follows
/// redirects hop by hop, so a CDN on another host never sees the token.
struct SourceHTTPClient: Sendable {
  /// Which redirects ``send(method:url:headers:sink:redirects:)`` follows.
  enum RedirectPolicy {
    /// Only to the same scheme, host and port (the Hub's relative redirects for renamed repos).
    case sameOrigin
    /// Any `http`/`https` target, up to ``maximumRedirects``.
    case all
  }

  static let maximumRedirects = 10

  let options: HubOptions
  let transport: HTTPTransport

  init(options: HubOptions) {
    self.options = options
    self.transport = HTTPTransport(limits: options.limits)
  }

  /// The headers sent to `url`: `extra`, plus `Authorization: Bearer` when `url` is the endpoint.
  func headers(for url: URL, extra: [String: String]) -> [String: String] {
    var headers = extra
    if let token = options.token, options.isEndpoint(url) {
      headers["Authorization"] = "Bearer \(token)"
    }
    return headers
  }

  /// Sends `method` to `url`, following redirects per `redirects`.
  ///
  /// Returns the outcome of the last hop; a redirect that is not followed (cross-origin under
  /// `.sameOrigin`) is returned as `.completed` with its 3xx head.
  func send(
    method: String, url: URL, headers extra: [String: String] = [:], sink: HTTPBodySink? = nil,
    redirects: RedirectPolicy
  ) -> HTTPOutcome {
    var current = url
    for _ in 0...Self.maximumRedirects {
      let outcome = transport.send(
        method: method, url: current, headers: headers(for: current, extra: extra), sink: sink)
      guard case .completed(let head) = outcome, head.isRedirect, let next = redirectTarget(head) else {
        return outcome
      }
      switch redirects {
      case .sameOrigin:
        if HubOptions.origin(of: next) != HubOptions.origin(of: current) { return outcome }
      case .all:
        break
      }
      current = next
    }
    return .aborted(
      SourceError(.transfer, file: url.absoluteString, reason: "more than \(Self.maximumRedirects) redirects"))
  }

  /// The absolute `http(s)` URL a redirect points to.
  func redirectTarget(_ head: HTTPResponseHead) -> URL? {
    guard let location = head.header("location"),
      let target = URL(string: location, relativeTo: head.url)?.absoluteURL,
      let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https"
    else { return nil }
    return target
  }
}

/// Collects a bounded response body in memory (API answers, error pages).
final class MemorySink: HTTPBodySink {
  private(set) var bytes: [UInt8] = []
  private let limit: Int
  private let label: String

  init(limit: Int, label: String) {
    self.limit = limit
    self.label = label
  }

  func begin(_ head: HTTPResponseHead) throws(SourceError) -> Bool { true }

  func write(_ chunk: UnsafeRawBufferPointer) throws(SourceError) {
    guard bytes.count + chunk.count <= limit else {
      throw SourceError(.limitExceeded, file: label, reason: "the server's answer exceeds \(limit) bytes")
    }
    bytes.append(contentsOf: chunk)
  }
}
