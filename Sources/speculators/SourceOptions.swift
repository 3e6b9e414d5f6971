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

  /// The library options these flags and the environment describe (progress on stderr).
  var hubOptions: HubOptions {
    HubOptions.fromEnvironment(
      offline: offline, cacheDirectory: cacheDirectory, endpoint: endpoint, progress: .standardError())
  }

  /// Resolves a source again for a larger need (convert's verifier embedding).
  var fetcher: SourceFetcher {
    let options = hubOptions
    return { reference, need throws(CheckpointError) in
      try SourceResolver.resolve(reference, need: need, options: options)
    }
  }
}

/// Resolves a command's `MODEL`/`PATH`/`--verifier` argument to local files: a local path as
/// it is, a Hub id from the cache or the Hub, a URL from the URL cache or the network.
///
/// Every library entry point takes resolved local sources; commands resolve first, here.
///
/// Errors are ``CheckpointError``s, so `runReportingErrors` prints one line and exits 2.
func resolveForCommand(
  _ reference: String, need: SourceNeeds, options: SourceOptions
) throws(CheckpointError) -> ResolvedSource {
  try SourceResolver.resolve(reference, need: need, options: options.hubOptions)
}

/// The path a command opens for `reference`: a local path exactly as the user typed it (so
/// reports and errors show it unchanged), otherwise the cached download.
func localPathForCommand(
  _ reference: String, need: SourceNeeds, options: SourceOptions
) throws(CheckpointError) -> String {
  let resolved = try resolveForCommand(reference, need: need, options: options)
  return resolved.origin == .local ? reference : resolved.path
}
