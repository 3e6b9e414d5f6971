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
  func begin(_ head: HTTPResponseHead) throws(SourceError) -> Bool
  /// Called for each chunk of the body, in order.
  func write(_ bytes: UnsafeRawBufferPointer) throws(SourceError)
  /// True once the sink holds all it needs: the transfer then stops and counts as complete
  /// (a server that ignores `Range` sends the whole file; the rest is not read).
  var isSatisfied: Bool { get }
}

extension HTTPBodySink {
  var isSatisfied: Bool { false }
}

/// The limits every request runs under.
///
/// A server that accepts the connection but never answers fails after ``connectTimeout``; one
/// that goes silent fails after ``readTimeout``; one that keeps a body trickling (a byte every few
/// seconds, or a body that never ends at a crawl) fails once fewer than ``lowSpeedLimit`` bytes
/// per second arrived over ``lowSpeedTime`` seconds, as curl's `--speed-limit`/`--speed-time` do.
public struct TransferLimits: Sendable, Hashable {
  /// Seconds to wait for the response head.
  public var connectTimeout: Double
  /// Seconds without any data before a request fails.
  public var readTimeout: Double
  /// Bytes per second below which a transfer is abandoned (0 disables the check).
  public var lowSpeedLimit: Int
  /// Seconds the transfer must stay below ``lowSpeedLimit`` before it is abandoned.
  public var lowSpeedTime: Double

  /// The defaults: 30 s to answer, 60 s of silence, below 1 KB/s for 60 s.
  public init(connectTimeout: Double = 30, readTimeout: Double = 60, lowSpeedLimit: Int = 1024, lowSpeedTime: Double = 60) {
    self.connectTimeout = connectTimeout
    self.readTimeout = readTimeout
    self.lowSpeedLimit = lowSpeedLimit
    self.lowSpeedTime = lowSpeedTime
  }
}

/// How one request ended.
enum HTTPOutcome {
  /// The server answered and the whole body (if any was wanted) arrived.
  case completed(HTTPResponseHead)
  /// The connection failed, timed out, or was cut; `head` is set when the response had started.
  case transportFailed(head: HTTPResponseHead?, reason: String)
  /// The server did not answer in time, or sent the body too slowly (``TransferLimits``);
  /// `reason` names the host. Not worth retrying.
  case stalled(reason: String)
  /// The sink refused the response or failed to store it.
  case aborted(SourceError)
}

/// Synchronous HTTP over Foundation's `URLSession` (FoundationNetworking on Linux).
///
/// Redirects are never followed here: a 3xx response with a `Location` is returned as it is,
/// so the caller decides which headers (the token) the next hop receives. Bodies are streamed
/// to an ``HTTPBodySink`` and never held in memory. Responses are not decompressed
/// (`Accept-Encoding: identity`), so byte counts and ranges mean file bytes.
struct HTTPTransport: Sendable {
  /// Timeouts and the low-speed abort.
  var limits: TransferLimits
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
    configuration.timeoutIntervalForRequest = limits.readTimeout
    configuration.urlCache = nil
    configuration.httpShouldSetCookies = false
    configuration.httpCookieAcceptPolicy = .never
    let watch = TransferWatch(limits: limits, host: Self.hostName(url))
    let delegate = TransferDelegate(sink: sink, watch: watch)
    let queue = BoundedOperationQueue(capacity: Self.pendingCallbacks)
    let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
    let task = session.dataTask(with: request)
    let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
    timer.schedule(deadline: .now() + Self.watchInterval, repeating: Self.watchInterval)
    timer.setEventHandler {
      if watch.check(now: DispatchTime.now().uptimeNanoseconds) {
        task.cancel()
        // Do not wait for the cancellation to be delivered: a stalled transfer ends now.
        delegate.finish()
      }
    }
    timer.resume()
    task.resume()
    delegate.done.wait()
    timer.cancel()
    session.invalidateAndCancel()
    return delegate.outcome()
  }

  /// How often the watchdog samples a transfer.
  static let watchInterval = DispatchTimeInterval.milliseconds(250)

  /// `host` or `host:port`, as errors name it.
  static func hostName(_ url: URL) -> String {
    let host = url.host ?? "the server"
    return url.port.map { "\(host):\($0)" } ?? host
  }
}

/// Watches one transfer from another thread: no answer within the connect timeout, or a body
/// slower than the low-speed limit, ends it with a reason naming the host.
final class TransferWatch: @unchecked Sendable {
  private let lock = NSLock()
  private let limits: TransferLimits
  private let host: String
  private let started = DispatchTime.now().uptimeNanoseconds
  private var answered = false
  private var received: Int64 = 0
  /// (time, bytes received by then), oldest first, covering at least `lowSpeedTime`.
  private var samples: [(UInt64, Int64)] = []
  private var failure: String?

  init(limits: TransferLimits, host: String) {
    self.limits = limits
    self.host = host
  }

  /// The response head arrived.
  func markAnswered() {
    lock.lock()
    answered = true
    samples = [(DispatchTime.now().uptimeNanoseconds, received)]
    lock.unlock()
  }

  /// `count` body bytes arrived.
  func add(_ count: Int) {
    lock.lock()
    received += Int64(count)
    lock.unlock()
  }

  /// Why the watch ended the transfer, if it did.
  var reason: String? {
    lock.lock()
    defer { lock.unlock() }
    return failure
  }

  /// Samples the transfer at `now`; true when it must be cancelled.
  func check(now: UInt64) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    guard failure == nil else { return false }
    let seconds = { (from: UInt64) in Double(now &- from) / 1e9 }
    if !answered {
      if seconds(started) >= limits.connectTimeout {
        failure = "\(host) did not answer within \(Self.format(limits.connectTimeout)) s"
        return true
      }
      return false
    }
    guard limits.lowSpeedLimit > 0, limits.lowSpeedTime > 0 else { return false }
    samples.append((now, received))
    // Keep the newest sample at least lowSpeedTime old as the window's start.
    while samples.count > 1, seconds(samples[1].0) >= limits.lowSpeedTime { samples.removeFirst() }
    guard let (start, bytes) = samples.first, seconds(start) >= limits.lowSpeedTime else { return false }
    let rate = Double(received - bytes) / seconds(start)
    if rate < Double(limits.lowSpeedLimit) {
      failure = "\(host) sent \(received - bytes) bytes in the last \(Self.format(seconds(start))) s, "
        + "below the low-speed limit of \(limits.lowSpeedLimit) bytes/s for \(Self.format(limits.lowSpeedTime)) s "
        + "(--low-speed-limit, --low-speed-time)"
      return true
    }
    return false
  }

  private static func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
  }
}

/// A serial delegate queue that makes its producer wait while `capacity` callbacks are pending.
///
/// FoundationNetworking hands every received chunk to the delegate queue with
/// `addOperation(_:)` and keeps reading the socket; when hashing and writing are slower than the
/// network, chunks would pile up in memory without bound. Blocking the producer here stops
/// libcurl from reading, so TCP flow control slows the sender and memory stays at about
/// `capacity` chunks. (Delegate callbacks never wait for the producer: they cancel a task from
/// another queue, so this cannot deadlock.)
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
  let watch: TransferWatch
  let done = DispatchSemaphore(value: 0)
  private let finishLock = NSLock()
  private var finished = false
  private var head: HTTPResponseHead?
  private var wantsBody = false
  private var satisfied = false
  private var abort: SourceError?
  private var transportError: String?

  init(sink: HTTPBodySink?, watch: TransferWatch) {
    self.sink = sink
    self.watch = watch
  }

  /// Releases the waiting caller, once; later callbacks then leave the sink alone.
  func finish() {
    finishLock.lock()
    let first = !finished
    finished = true
    finishLock.unlock()
    if first { done.signal() }
  }

  private var isFinished: Bool {
    finishLock.lock()
    defer { finishLock.unlock() }
    return finished
  }

  func outcome() -> HTTPOutcome {
    if let abort { return .aborted(abort) }
    if satisfied, let head { return .completed(head) }
    if let reason = watch.reason { return .stalled(reason: reason) }
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
    watch.markAnswered()
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
    watch.add(data.count)
    guard wantsBody, abort == nil, !satisfied, !isFinished, let sink else { return }
    let failure = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> SourceError? in
      do throws(SourceError) {
        try sink.write(bytes)
        return nil
      } catch {
        return error
      }
    }
    if let failure {
      abort = failure
      stop(dataTask)
    } else if sink.isSatisfied {
      satisfied = true
      stop(dataTask)
    }
  }

  /// Releases the caller and cancels `task` from another queue: FoundationNetworking's
  /// `cancel()` waits for its transfer thread, which may itself be waiting for a slot of this
  /// (bounded) delegate queue, so cancelling from here would deadlock.
  private func stop(_ task: URLSessionTask) {
    finish()
    DispatchQueue.global().async { task.cancel() }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
    if let error, abort == nil, !satisfied, watch.reason == nil, !isFinished {
      let nsError = error as NSError
      let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError
      transportError = underlying?.localizedDescription ?? nsError.localizedDescription
    }
    finish()
  }
}
