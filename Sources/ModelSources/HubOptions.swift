import Foundation
import Inspect

/// Where models come from and where they are cached: the Hub endpoint, the Hugging Face cache,
/// the access token, offline mode, and how downloads report progress.
///
/// ``fromEnvironment(_:offline:cacheDirectory:endpoint:)`` reads the same variables as Python
/// `huggingface_hub`, so both tools share one cache and one login.
public struct HubOptions: Sendable {
  /// The public Hub, used when `HF_ENDPOINT` is not set.
  public static let defaultEndpoint = "https://huggingface.co"

  /// The Hub base URL, without a trailing slash.
  public var endpoint: String
  /// The Hugging Face Hub cache (`models--org--name/{refs,snapshots,blobs}` lives here).
  public var cacheDirectory: String
  /// Where URL sources are downloaded (one folder per URL).
  public var urlCacheDirectory: String
  /// The speculators cache (`$SPECULATORS_CACHE`, default `~/.cache/speculators`): ranged pieces
  /// of remote files and the local stand-ins built from them live under `ranges/`, never in
  /// the Hugging Face cache, whose blobs other tools trust to be whole files.
  public var speculatorsCacheDirectory: String
  /// `<speculators cache>/ranges`.
  package var rangeCacheDirectory: String { speculatorsCacheDirectory + "/ranges" }
  /// The bearer token, sent only to ``endpoint``'s scheme, host and port.
  public var token: String?
  /// Never touch the network; only the caches are read.
  public var offline: Bool
  /// Attempts per file; a cut connection is resumed with a `Range` request while attempts remain.
  public var maxAttempts: Int
  /// Timeouts and the low-speed abort every request runs under.
  public var limits: TransferLimits
  /// Seconds without any data before a request fails (``TransferLimits/readTimeout``).
  package var timeout: Double {
    get { limits.readTimeout }
    set { limits.readTimeout = newValue }
  }
  /// Receives download events (see ``DownloadProgress``).
  public var progress: DownloadProgress

  /// Creates options from explicit values.
  public init(
    endpoint: String = HubOptions.defaultEndpoint, cacheDirectory: String, urlCacheDirectory: String,
    token: String? = nil, offline: Bool = false, maxAttempts: Int = 3, timeout: Double = 60,
    limits: TransferLimits? = nil, progress: DownloadProgress = .silent
  ) {
    var endpoint = endpoint
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    self.endpoint = endpoint
    self.cacheDirectory = cacheDirectory
    self.urlCacheDirectory = urlCacheDirectory
    self.speculatorsCacheDirectory = (urlCacheDirectory as NSString).deletingLastPathComponent
    self.token = token
    self.offline = offline
    self.maxAttempts = max(1, maxAttempts)
    var chosen = limits ?? TransferLimits()
    if limits == nil { chosen.readTimeout = timeout }
    self.limits = chosen
    self.progress = progress
  }

  /// Options from the environment, as `huggingface_hub` reads it, overridden by command-line flags.
  ///
  /// - `HF_ENDPOINT` (default `https://huggingface.co`);
  /// - `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`; `HF_HOME` defaults to
  ///   `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`;
  /// - `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else the file `HF_TOKEN_PATH`, else
  ///   `$HF_HOME/token`;
  /// - `HF_HUB_OFFLINE` = `1`, `true`, `yes` or `on`;
  /// - URL sources go to `$SPECULATORS_CACHE/urls`, default `~/.cache/speculators/urls`;
  /// - `limits` default to ``TransferLimits/init(connectTimeout:readTimeout:lowSpeedLimit:lowSpeedTime:)``.
  public static func fromEnvironment(
    _ environment: [String: String] = ProcessInfo.processInfo.environment,
    offline: Bool = false, cacheDirectory: String? = nil, endpoint: String? = nil,
    limits: TransferLimits = TransferLimits(), progress: DownloadProgress = .silent
  ) -> HubOptions {
    func value(_ name: String) -> String? {
      guard let text = environment[name], !text.isEmpty else { return nil }
      return text
    }
    let home = value("HOME") ?? NSHomeDirectory()
    let cacheHome = value("XDG_CACHE_HOME") ?? home + "/.cache"
    let hfHome = value("HF_HOME") ?? cacheHome + "/huggingface"
    let hubCache = cacheDirectory ?? value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE") ?? hfHome + "/hub"
    let speculatorsCache = value("SPECULATORS_CACHE") ?? cacheHome + "/speculators"
    let urlCache = speculatorsCache + "/urls"
    let truthy: Set<String> = ["1", "true", "yes", "on"]
    let offlineFromEnvironment = value("HF_HUB_OFFLINE").map { truthy.contains($0.lowercased()) } ?? false
    var token = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN")
    if token == nil {
      let tokenPath = value("HF_TOKEN_PATH") ?? hfHome + "/token"
      if let text = try? String(contentsOfFile: tokenPath, encoding: .utf8) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        token = trimmed.isEmpty ? nil : trimmed
      }
    }
    return HubOptions(
      endpoint: endpoint ?? value("HF_ENDPOINT") ?? defaultEndpoint,
      cacheDirectory: expandTilde(hubCache, home: home),
      urlCacheDirectory: expandTilde(urlCache, home: home),
      token: token, offline: offline || offlineFromEnvironment, limits: limits, progress: progress)
  }

  private static func expandTilde(_ path: String, home: String) -> String {
    if path == "~" { return home }
    if path.hasPrefix("~/") { return home + path.dropFirst() }
    return path
  }

  /// Whether `url` has the endpoint's scheme, host and port, so it may receive the token.
  func isEndpoint(_ url: URL) -> Bool {
    guard let base = URL(string: endpoint) else { return false }
    return Self.origin(of: url) == Self.origin(of: base)
  }

  /// `scheme://host:port` with the default port filled in, lowercased.
  static func origin(of url: URL) -> String? {
    guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
    let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
    return "\(scheme)://\(host):\(port)"
  }
}
