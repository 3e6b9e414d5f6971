import Foundation
import Inspect
import Platform

/// Turns what the user typed as `MODEL` or `--verifier` into files on this machine.
///
/// ```swift
/// let options = HubOptions.fromEnvironment(offline: flags.offline)
/// let draft = try SourceResolver.resolve("org/eagle3-draft", need: .checkpoint, options: options)
/// let checkpoint = try CheckpointReader.open(draft.path)
/// ```
///
/// Order for `org/name[@revision]`: the Hugging Face cache (no request at all when it holds what
/// `need` asks for), then the Hub (unless offline), downloading into the same cache layout that
/// Python `huggingface_hub` uses. URLs go to the URL cache the same way. Local paths are
/// returned as they are.
public enum SourceResolver {
  /// Resolves `reference` for a command that needs `need`.
  ///
  /// Errors, one line each: ``SourceError`` for an unknown repository, revision or file, a
  /// gated or private repository without a usable token, offline with nothing cached, a
  /// truncated download (the partial file is kept for the next run), a checksum mismatch
  /// (nothing is kept); `CheckpointError` for a fetched index or header that is not valid.
  /// Nothing is linked into a snapshot before its bytes are complete and verified.
  public static func resolve(
    _ reference: String, need: SourceNeeds, options: HubOptions
  ) throws -> ResolvedSource {
    switch try ModelReference.parse(reference) {
    case .local(let path):
      guard FileSystem.entry(at: path) != .missing else {
        // Something is there (a symbolic link loop, a link to nothing): say what, not "no such file".
        if FileSystem.existsWithoutFollowingLinks(path) {
          // `entry(at:)` is `missing` when following the link fails, leaving that failure in errno.
          let reason = FileSystem.entry(at: path) == .missing ? System.message() : "cannot be read"
          throw SourceError(.notFound, file: reference, reason: "\(reason) (a symbolic link that leads nowhere usable)")
        }
        if ModelReference.namesLocalDirectory(path, fileExists: { FileSystem.entry(at: $0) != .missing }) {
          throw SourceError(.notFound, file: reference, reason: "no such file or directory" + suggestion(for: path))
        }
        throw SourceError(
          .notFound, file: reference,
          reason: "no such file or directory (nor a Hugging Face Hub id 'org/name[@revision]' or an http(s) URL)")
      }
      return .local(path, given: reference)
    case .hub(let repository, let revision):
      do {
        return try HubSource(repository: repository, revision: revision, given: reference, options: options)
          .resolve(need)
      } catch where !reference.lowercased().hasPrefix("hf://") && isFailedLookup(error) {
        // `org/name` could have been a path: say that first, then why the Hub lookup failed.
        throw SourceError(.notFound, file: reference, reason: "no local path '\(reference)'; \(error)")
      }
    case .url(let url):
      return try URLSource(url: url, given: reference, options: options).resolve(need)
    }
  }

  /// Whether `error` says the Hub has no such repository or revision, or could not be asked.
  static func isFailedLookup(_ error: any Error) -> Bool {
    if let error = error as? SourceError { return error.kind == .notFound || error.kind == .unreachable }
    return (error as? CheckpointError)?.kind == .notFound
  }

  /// ` (did you mean 'dir/entry'?)` for the entry of the missing path's directory closest to
  /// its name, or nothing when none is close.
  static func suggestion(for path: String) -> String {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    guard !name.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)
    else { return "" }
    let scored = entries.filter { !$0.hasPrefix(".") }.map { ($0, EditDistance.between($0, name)) }
    guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }), best.1 <= max(2, name.count / 3) else { return "" }
    return " (did you mean '\(directory.isEmpty ? "" : directory + "/")\(best.0)'?)"
  }
}
