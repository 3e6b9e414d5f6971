import ArgumentParser
import Inspect
import Platform

/// Exit statuses shared by every command (README, "Commands").
enum ExitStatus {
  /// The check or diff found problems.
  static let findings = ExitCode(1)
  /// A usage or input error.
  static let inputError = ExitCode(2)
}

/// Runs `body`, turning library errors into one line on stderr and exit status 2.
func runReportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch let error as CleanExit {
    throw error
  } catch let error as ValidationError {
    throw error
  } catch let error as CheckpointError {
    printError(error.description)
    throw ExitStatus.inputError
  } catch {
    printError("\(error)")
    throw ExitStatus.inputError
  }
}

/// Writes `message` to stderr, prefixed with `error: `.
func printError(_ message: String) {
  writeStandardError("error: \(message)\n")
}

/// Writes raw text to stderr.
func writeStandardError(_ text: String) {
  var copy = text
  copy.withUTF8 { buffer in
    var offset = 0
    while offset < buffer.count {
      let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
      if written <= 0 { return }
      offset += written
    }
  }
}

/// Prints one JSON document on stdout.
func printJSON(_ value: JSONValue) {
  print(JSONWriter.pretty(value, sortKeys: false))
}

/// Whether to colour output: only on a terminal, never with `NO_COLOR` set.
var useColor: Bool {
  getenv("NO_COLOR") == nil && isatty(STDOUT_FILENO) != 0
    && getenv("TERM").map { String(cString: $0) } != "dumb"
}

/// Wraps `text` in an ANSI colour when ``useColor`` is on.
func colored(_ text: String, _ code: String) -> String {
  useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
}
