import ArgumentParser
import Convert
import Inspect
import ModelSources
import Platform
import Probe
import Validate

/// Exit statuses shared by every command (README, "Commands").
enum ExitStatus {
  /// The check or diff found problems.
  static let findings = ExitCode(1)
  /// A usage or input error.
  static let inputError = ExitCode(2)

  /// The status for a library error, by its domain: the one place that decides it.
  static func status(for error: any Error) -> ExitCode {
    switch error {
    case is CheckpointError: inputError  // a checkpoint's files cannot be read as their format says
    case is SourceError: inputError  // a Hub id, URL or cache could not provide the files
    case is ConversionError: inputError  // a conversion refused, or its output could not be written
    case is UsageError: inputError  // an argument the library cannot honour, such as a flag value
    case is ProbeError: inputError  // the probe's inputs
    default: inputError
    }
  }
}

/// Runs `body`, turning library errors into one line on stderr and their domain's exit status
/// (``ExitStatus/status(for:)``).
func runReportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch let error as CleanExit {
    throw error
  } catch let error as ValidationError {
    throw error
  } catch {
    printError("\(error)")
    throw ExitStatus.status(for: error)
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
