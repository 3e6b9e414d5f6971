import Foundation
import Inspect
import Platform

/// The Hugging Face Hub cache, laid out exactly as Python `huggingface_hub` lays it out, so
/// either tool reuses what the other downloaded:
///
/// ```
/// <root>/models--org--name/refs/<revision>            the commit a branch or tag pointed to
/// <root>/models--org--name/blobs/<etag>               file contents (etag = sha256 for LFS files,
///                                                     the git blob sha1 otherwise)
/// <root>/models--org--name/blobs/<etag>.incomplete    a partial download, resumed by the next run
/// <root>/models--org--name/snapshots/<commit>/<file>  relative symlink to ../../blobs/<etag>
/// <root>/models--org--name/.no_exist/<commit>/<file>  empty: the file is known not to exist
/// <root>/.locks/models--org--name/<etag>.lock         flock(2) lock held while a blob downloads
/// ```
package struct HubCache: Sendable {
  /// The cache directory (`HF_HUB_CACHE`).
  package let root: String

  /// A cache rooted at `root`.
  package init(root: String) {
    self.root = root
  }

  /// `<root>/models--org--name`.
  package func repositoryDirectory(_ repository: HubRepository) -> String {
    root + "/" + repository.cacheFolderName
  }

  /// `…/blobs/<etag>`.
  func blobPath(_ repository: HubRepository, etag: String) -> String {
    repositoryDirectory(repository) + "/blobs/" + etag
  }

  /// `…/blobs/<etag>.incomplete`, the partial download `huggingface_hub` also resumes.
  func incompletePath(_ repository: HubRepository, etag: String) -> String {
    blobPath(repository, etag: etag) + ".incomplete"
  }

  /// `<root>/.locks/models--org--name/<etag>.lock`.
  func lockPath(_ repository: HubRepository, etag: String) -> String {
    root + "/.locks/" + repository.cacheFolderName + "/" + etag + ".lock"
  }

  /// `…/snapshots/<commit>`.
  package func snapshotDirectory(_ repository: HubRepository, commit: String) -> String {
    repositoryDirectory(repository) + "/snapshots/" + commit
  }

  /// `…/snapshots/<commit>/<file>`.
  func snapshotPath(_ repository: HubRepository, commit: String, file: String) -> String {
    snapshotDirectory(repository, commit: commit) + "/" + file
  }

  /// `…/.no_exist/<commit>/<file>`.
  func missingMarkerPath(_ repository: HubRepository, commit: String, file: String) -> String {
    repositoryDirectory(repository) + "/.no_exist/" + commit + "/" + file
  }

  /// The commit `revision` resolves to in the cache: a full commit id with a snapshot folder,
  /// or the contents of `refs/<revision>`; nil when the cache knows nothing of it.
  package func commit(for repository: HubRepository, revision: String) -> String? {
    if HubRepository.isCommitHash(revision),
      directoryExists(snapshotDirectory(repository, commit: revision))
    {
      return revision
    }
    let refPath = repositoryDirectory(repository) + "/refs/" + revision
    guard let text = try? String(contentsOfFile: refPath, encoding: .utf8) else { return nil }
    let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return HubRepository.isCommitHash(commit) ? commit : nil
  }

  /// Repository-relative names of the files a snapshot holds (symlinks whose blob exists).
  func snapshotFiles(_ repository: HubRepository, commit: String) -> Set<String> {
    listFiles(under: snapshotDirectory(repository, commit: commit))
  }

  /// Whether `.no_exist/<commit>/<file>` says the file is absent at that commit.
  func isMarkedMissing(_ repository: HubRepository, commit: String, file: String) -> Bool {
    FileManager.default.fileExists(atPath: missingMarkerPath(repository, commit: commit, file: file))
  }

  /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink, atomically.
  func link(_ repository: HubRepository, commit: String, file: String, etag: String) throws(SourceError) {
    let path = snapshotPath(repository, commit: commit, file: file)
    try createDirectory((path as NSString).deletingLastPathComponent)
    let depth = file.split(separator: "/").count - 1
    let target = String(repeating: "../", count: 2 + depth) + "blobs/" + etag
    let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    guard symlink(target, temporary) == 0 else {
      throw DownloadSink.ioError(temporary, "cannot create the snapshot link")
    }
    guard rename(temporary, path) == 0 else {
      let error = DownloadSink.ioError(path, "cannot place the snapshot link")
      unlink(temporary)
      throw error
    }
  }

  /// Records that `file` does not exist at `commit` (best effort, like `huggingface_hub`).
  func markMissing(_ repository: HubRepository, commit: String, file: String) {
    let path = missingMarkerPath(repository, commit: commit, file: file)
    try? createDirectory((path as NSString).deletingLastPathComponent)
    _ = FileManager.default.createFile(atPath: path, contents: Data())
  }

  /// Writes `refs/<revision>` = `commit` atomically (nothing when the revision is the commit).
  func writeReference(_ repository: HubRepository, revision: String, commit: String) throws(SourceError) {
    guard revision != commit else { return }
    let path = repositoryDirectory(repository) + "/refs/" + revision
    try writeAtomically(path, contents: Array(commit.utf8))
  }

  /// Runs `body` holding an exclusive `flock` on the blob's lock file, so two processes (this
  /// tool or `huggingface_hub`) never write the same blob at once.
  func withBlobLock<T>(
    _ repository: HubRepository, etag: String, _ body: () throws(SourceError) -> T
  ) throws(SourceError) -> T {
    let path = lockPath(repository, etag: etag)
    try createDirectory((path as NSString).deletingLastPathComponent)
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw DownloadSink.ioError(path, "cannot open the lock file") }
    defer { _ = close(descriptor) }
    guard System.retryingInterrupts({ flock(descriptor, LOCK_EX) }) == 0 else {
      throw DownloadSink.ioError(path, "cannot lock")
    }
    defer { _ = flock(descriptor, LOCK_UN) }
    return try body()
  }

  /// Rejects repository-relative file names that could leave the snapshot folder.
  static func validateFileName(_ name: String, source: String) throws(SourceError) {
    let components = name.split(separator: "/", omittingEmptySubsequences: false)
    let bad = name.isEmpty || name.utf8.count > 1024 || name.hasPrefix("/") || name.contains("\\")
      || name.unicodeScalars.contains { $0.value < 0x20 }
      || components.contains { $0.isEmpty || $0 == "." || $0 == ".." }
    if bad {
      throw SourceError(.unexpectedAnswer, file: source, reason: "unsafe file name '\(name)' in the file list")
    }
  }
}

/// Creates `path` and its parents.
func createDirectory(_ path: String) throws(SourceError) {
  do {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  } catch {
    throw SourceError(.cache, file: path, reason: "cannot create the directory: \(error.localizedDescription)")
  }
}

/// Whether `path` is a directory (following symlinks).
func directoryExists(_ path: String) -> Bool {
  var isDirectory: ObjCBool = false
  return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

/// Writes `contents` to a temporary sibling and renames it over `path`.
func writeAtomically(_ path: String, contents: [UInt8]) throws(SourceError) {
  try createDirectory((path as NSString).deletingLastPathComponent)
  let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  guard FileManager.default.createFile(atPath: temporary, contents: Data(contents)) else {
    throw SourceError(.cache, file: temporary, reason: "cannot write")
  }
  guard rename(temporary, path) == 0 else {
    let error = DownloadSink.ioError(path, "cannot move into place")
    unlink(temporary)
    throw error
  }
}

/// Relative names of the regular files under `directory` (symlinks followed, dot-files skipped).
func listFiles(under directory: String) -> Set<String> {
  guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
  var names: Set<String> = []
  while let name = enumerator.nextObject() as? String {
    let last = (name as NSString).lastPathComponent
    if last.hasPrefix(".") || last.contains(".tmp-") { continue }
    if FileSystem.isRegularFile(directory + "/" + name) { names.insert(name) }
  }
  return names
}
