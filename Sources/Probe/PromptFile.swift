import Inspect

/// Reads `--prompt-ids` files: JSON lines, one array of token ids per non-empty line.
public enum PromptFile {
  /// The largest prompt file read: 64 MiB.
  public static let maximumSize = 64 << 20

  /// The prompts in the file at `path`.
  ///
  /// - Throws: ``ProbeError`` (`.invalidInput`) naming the file and line for a line that is not a
  ///   JSON array of non-negative integers, or a file with no prompts.
  public static func read(_ path: String) throws(ProbeError) -> [[Int]] {
    let file: MappedFile
    do {
      file = try MappedFile(path: path)
    } catch {
      throw ProbeError(.invalidInput, file: path, reason: error.reason)
    }
    guard file.count <= maximumSize else {
      throw ProbeError(.invalidInput, file: path, reason: "larger than \(maximumSize >> 20) MiB")
    }
    var prompts: [[Int]] = []
    var lineStart = 0
    var lineNumber = 0
    let bytes = file.bytes
    while lineStart < bytes.count {
      var lineEnd = lineStart
      while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
      lineNumber += 1
      let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
      lineStart = lineEnd + 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      let value: JSONValue
      do {
        value = try StrictJSONParser.parse(line)
      } catch {
        throw ProbeError(.invalidInput, file: path, reason: "line \(lineNumber): invalid JSON: \(error.reason)")
      }
      guard let items = value.arrayValue else {
        throw ProbeError(.invalidInput, file: path, reason: "line \(lineNumber): expected a JSON array of token ids")
      }
      var ids: [Int] = []
      ids.reserveCapacity(items.count)
      for item in items {
        guard let id = item.intValue, id >= 0 else {
          throw ProbeError(
            .invalidInput, file: path, reason: "line \(lineNumber): token ids must be non-negative integers")
        }
        ids.append(id)
      }
      guard !ids.isEmpty else {
        throw ProbeError(.invalidInput, file: path, reason: "line \(lineNumber): empty prompt")
      }
      prompts.append(ids)
    }
    guard !prompts.isEmpty else {
      throw ProbeError(.invalidInput, file: path, reason: "no prompts (expected one JSON array of token ids per line)")
    }
    return prompts
  }
}
