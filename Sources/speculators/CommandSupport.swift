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

/// Writes text the tool made (already escaped) to stderr.
func writeStandardError(_ text: String) {
  OutputStream.standardError.writeRaw(text)
}

/// Prints one JSON document on stdout.
func printJSON(_ value: JSONValue) {
  print(JSONWriter.pretty(value, sortKeys: false))
}
