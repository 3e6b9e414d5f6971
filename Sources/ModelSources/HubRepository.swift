import Inspect

/// A Hugging Face Hub model repository id, `org/name`, validated as the Hub validates it.
package struct HubRepository: Sendable, Hashable, CustomStringConvertible {
  /// `org/name`.
  package let id: String

  /// Validates `id`: two parts of letters, digits, `_`, `-` and `.`, each starting and ending
  /// with a letter, digit or `_`, no `--` or `..`, at most 96 characters.
  package init(_ id: String) throws(SourceError) {
    let parts = id.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, id.count <= 96, !id.contains("--"), !id.contains(".."),
      !id.hasSuffix(".git"), parts.allSatisfy(Self.isValidPart)
    else {
      throw SourceError(
        .invalidReference, file: id,
        reason: "not a Hugging Face Hub id (expected org/name with letters, digits, '_', '-', '.')")
    }
    self.id = id
  }

  /// The folder holding this repository in the Hub cache: `models--org--name`.
  package var cacheFolderName: String {
    "models--" + id.split(separator: "/").joined(separator: "--")
  }

  /// `org/name`.
  package var description: String { id }

  private static func isValidPart(_ part: Substring) -> Bool {
    guard let first = part.unicodeScalars.first, let last = part.unicodeScalars.last else {
      return false
    }
    func isWord(_ scalar: Unicode.Scalar) -> Bool {
      scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
    }
    return isWord(first) && isWord(last)
      && part.unicodeScalars.allSatisfy { isWord($0) || $0 == "-" || $0 == "." }
  }

  /// Rejects revisions that could escape the cache's `refs/` folder or break a URL.
  static func validateRevision(_ revision: String, given: String) throws(SourceError) {
    let components = revision.split(separator: "/", omittingEmptySubsequences: false)
    let badScalar = revision.unicodeScalars.contains {
      $0.properties.isWhitespace || $0.value < 0x20 || $0 == "\\" || $0.value == 0x7F
    }
    guard !revision.isEmpty, revision.utf8.count <= 256, !badScalar,
      components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
    else {
      throw SourceError(
        .invalidReference, file: given, reason: "'\(revision)' is not a valid revision (branch, tag or commit)")
    }
  }

  /// Whether `text` is a full 40-digit lowercase hex commit id.
  static func isCommitHash(_ text: String) -> Bool {
    text.utf8.count == 40 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }
}
