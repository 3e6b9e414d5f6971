import ArgumentParser
import Inspect
import ModelSources

/// Where Hugging Face Hub ids and URLs given as `MODEL`, `PATH` or `--verifier` are fetched
/// from and cached. Commands add it with `@OptionGroup var sources: SourceOptions`.
///
/// The environment is read as Python `huggingface_hub` reads it (`HF_ENDPOINT`, `HF_HOME`,
/// `HF_HUB_CACHE`, `HF_TOKEN`, `HF_HUB_OFFLINE`); these flags override it.
struct SourceOptions: ParsableArguments {
  @Flag(help: "Never contact the network: read Hub ids and URLs from the caches only (like HF_HUB_OFFLINE=1).")
  var offline = false

  @Option(
    name: .customLong("cache-dir"),
    help: ArgumentHelp(
      "Hugging Face cache directory (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).",
      valueName: "dir"))
  var cacheDirectory: String?

  @Option(
    help: ArgumentHelp(
      "Hugging Face Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co). The token is sent only here.",
      valueName: "url"))
  var endpoint: String?

  @Flag(
    help: "Download whole weights files of Hub ids into the Hugging Face cache, even for work that reads only headers.")
  var download = false

  /// `need` for a command that reads no tensor values: headers by range, unless `--download`.
  func headersUnlessDownloading(_ need: SourceNeeds = .headers) -> SourceNeeds {
    download ? need.whole : need
  }

  @Option(
    help: ArgumentHelp("Seconds to wait for a server to answer (default 30).", valueName: "seconds"))
  var connectTimeout: Double = TransferLimits().connectTimeout

  @Option(
    help: ArgumentHelp("Seconds a transfer may stay silent before it fails (default 60).", valueName: "seconds"))
  var readTimeout: Double = TransferLimits().readTimeout

  @Option(
    help: ArgumentHelp(
      "Abandon a transfer slower than this many bytes per second for --low-speed-time (default 1024; 0: never).",
      valueName: "bytes"))
  var lowSpeedLimit: Int = TransferLimits().lowSpeedLimit

  @Option(
    help: ArgumentHelp("Seconds below --low-speed-limit before a transfer is abandoned (default 60).", valueName: "seconds"))
  var lowSpeedTime: Double = TransferLimits().lowSpeedTime

  func validate() throws {
    for (flag, value) in [("--connect-timeout", connectTimeout), ("--read-timeout", readTimeout), ("--low-speed-time", lowSpeedTime)]
    where !(value > 0 && value.isFinite) {
      throw ValidationError("\(flag) must be a positive number of seconds")
    }
    if lowSpeedLimit < 0 { throw ValidationError("--low-speed-limit must be 0 or a positive number of bytes") }
    if let endpoint, ModelReference.httpURL(endpoint) == nil {
      throw ValidationError("--endpoint must be an http(s) URL with a host, such as https://huggingface.co")
    }
  }

  /// The limits every request of this command runs under.
  var limits: TransferLimits {
    TransferLimits(
      connectTimeout: connectTimeout, readTimeout: readTimeout, lowSpeedLimit: lowSpeedLimit, lowSpeedTime: lowSpeedTime)
  }

  /// The library options these flags and the environment describe (progress on stderr).
  var hubOptions: HubOptions {
    HubOptions.fromEnvironment(
      offline: offline, cacheDirectory: cacheDirectory, endpoint: endpoint, limits: limits,
      progress: .standardError())
  }

  /// Resolves a source again for a larger need (convert's verifier embedding).
  var fetcher: SourceFetcher {
    let options = hubOptions
    let whole = download
    return { reference, need in
      try SourceResolver.resolve(reference, need: whole ? need.whole : need, options: options)
    }
  }
}

/// Resolves a command's `MODEL`/`PATH`/`--verifier` argument to local files: a local path as
/// it is, a Hub id from the cache or the Hub, a URL from the URL cache or the network.
///
/// Every library entry point takes resolved local sources; commands resolve first, here.
///
/// Errors are `SourceError`s (and `CheckpointError`s for fetched files that do not parse), so
/// `runReportingErrors` prints one line and exits 2.
func resolveForCommand(
  _ reference: String, need: SourceNeeds, options: SourceOptions
) throws -> ResolvedSource {
  try SourceResolver.resolve(reference, need: need, options: options.hubOptions)
}

/// The path a command opens for `reference`: a local path exactly as the user typed it (so
/// reports and errors show it unchanged), otherwise the cached download.
func localPathForCommand(
  _ reference: String, need: SourceNeeds, options: SourceOptions
) throws -> String {
  commandPath(try resolveForCommand(reference, need: need, options: options))
}

/// The path a command opens for a resolved source: a local path exactly as the user typed it
/// (so reports and errors show it unchanged), otherwise the cached download or stand-in.
func commandPath(_ resolved: ResolvedSource) -> String {
  resolved.origin == .local ? resolved.given : resolved.path
}
