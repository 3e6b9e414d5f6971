import Foundation
import Inspect

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The status and headers of one HTTP response (header names lowercased).
struct HTTPResponseHead: Sendable {
  /// The HTTP status code.
  var status: Int
  /// The URL that answered.
  var url: URL
  /// Header values by lowercased name.
  var headers: [String: String]

  /// The value of header `name` (any case).
  func header(_ name: String) -> String? { headers[name.lowercased()] }

  /// Whether this is a redirect that names where to go next.
  var isRedirect: Bool { (300..<400).contains(status) && header("location") != nil }
}

/// Where a response body goes, chunk by chunk, as it arrives.
protocol HTTPBodySink: AnyObject {
  /// Called once with the final (non-redirect) response; return `false` to discard the body.
  func begin(_ head: HTTPResponseHead) throws(CheckpointError) -> Bool
  /// Called for each chunk of the body, in order.
  func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError)
}

/// How one request ended.
enum HTTPOutcome {
  /// The server answered and the whole body (if any was wanted) arrived.
  case completed(HTTPResponseHead)
  /// The connection failed, timed out, or was cut; `head` is set when the response had started.
  case transportFailed(head: HTTPResponseHead?, reason: String)
  /// The sink refused the response or failed to store it.
  case aborted(CheckpointError)
}

/// Synchronous HTTP over Foundation's `URLSession` (FoundationNetworking on Linux).
///
/// Redirects are never followed here: a 3xx response with a `Location` is returned as it is,
/// so the caller decides which headers (the token) the next hop receives. Bodies are streamed
/// to an ``HTTPBodySink`` and never held in memory. Responses are not decompressed
/// (`Accept-Encoding: identity`), so byte counts and ranges mean file bytes.
struct HTTPTransport: Sendable {
  /// Seconds without progress before a request fails.
  var timeout: Double
  /// Sent as `User-Agent`.
  var userAgent = "speculators/\(ToolInfo.version)"

  /// Body chunks that may wait for the sink before the network side stops reading.
  static let pendingCallbacks = 256

  /// Sends one request and blocks until it ends.
  func send(method: String, url: URL, headers: [String: String], sink: HTTPBodySink?) -> HTTPOutcome {
    var request = URLRequest(url: url)
    request.httpMethod = method
    request.cachePolicy = .reloadIgnoringLocalAndRemoteCacheData
    request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
    request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }

    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.urlCache = nil
    configuration.httpShouldSetCookies = false
    configuration.httpCookieAcceptPolicy = .never
    let delegate = TransferDelegate(sink: sink)
    let queue = BoundedOperationQueue(capacity: Self.pendingCallbacks)
    let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
    session.dataTask(with: request).resume()
    delegate.done.wait()
    session.finishTasksAndInvalidate()
    return delegate.outcome()
  }
}

/// A serial delegate queue that makes its producer wait while `capacity` callbacks are pending.
///
/// FoundationNetworking hands every received chunk to the delegate queue with
/// `addOperation(_:)` and keeps reading the socket; when hashing and writing are slower than the
/// network, chunks would pile up in memory without bound. Blocking the producer here stops
/// libcurl from reading, so TCP flow control slows the sender and memory stays at about
/// `capacity` chunks. (Delegate callbacks never wait for the producer: `cancel()` is
/// asynchronous, so this cannot deadlock.)
final class BoundedOperationQueue: OperationQueue, @unchecked Sendable {
  private let slots: DispatchSemaphore

  init(capacity: Int) {
    slots = DispatchSemaphore(value: capacity)
    super.init()
    maxConcurrentOperationCount = 1
  }

  override func addOperation(_ block: @Sendable @escaping () -> Void) {
    slots.wait()
    super.addOperation { [slots] in
      block()
      slots.signal()
    }
  }
}

/// Receives one task's callbacks; the caller blocks on `done` until the task completes.
private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  // Only touched on the session's serial delegate queue until `done` is signalled, then only by
  // the waiting caller: no concurrent access.
  let sink: HTTPBodySink?
  let done = DispatchSemaphore(value: 0)
  private var head: HTTPResponseHead?
  private var wantsBody = false
  private var abort: CheckpointError?
  private var transportError: String?

  init(sink: HTTPBodySink?) {
    self.sink = sink
  }

  func outcome() -> HTTPOutcome {
    if let abort { return .aborted(abort) }
    if let transportError { return .transportFailed(head: head, reason: transportError) }
    guard let head else { return .transportFailed(head: nil, reason: "no response") }
    return .completed(head)
  }

  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
  ) {
    completionHandler(nil)
  }

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    guard let http = response as? HTTPURLResponse, let url = http.url ?? dataTask.originalRequest?.url else {
      transportError = "the server's answer is not HTTP"
      completionHandler(.cancel)
      return
    }
    var headers: [String: String] = [:]
    for (key, value) in http.allHeaderFields {
      if let name = key as? String, let text = value as? String { headers[name.lowercased()] = text }
    }
    let received = HTTPResponseHead(status: http.statusCode, url: url, headers: headers)
    head = received
    guard let sink, !received.isRedirect else {
      completionHandler(.allow)
      return
    }
    do {
      wantsBody = try sink.begin(received)
    } catch {
      abort = error
    }
    completionHandler(abort == nil ? .allow : .cancel)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    guard wantsBody, abort == nil, let sink else { return }
    let failure = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> CheckpointError? in
      do throws(CheckpointError) {
        try sink.write(bytes)
        return nil
      } catch {
        return error
      }
    }
    if let failure {
      abort = failure
      dataTask.cancel()
    }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
    if let error, abort == nil {
      let nsError = error as NSError
      let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError
      transportError = underlying?.localizedDescription ?? nsError.localizedDescription
    }
    done.signal()
  }
}
