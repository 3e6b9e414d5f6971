import ArgumentParser
import Convert
import Inspect

extension AlgorithmKwargs {
  /// Parses an `--algorithm-kwargs` value (for `@Option(transform:)`): invalid JSON, a
  /// non-object or a value of the wrong type is a usage error.
  static func parseArgument(_ text: String) throws -> AlgorithmKwargs {
    do {
      return try AlgorithmKwargs(parsing: text)
    } catch {
      throw ValidationError(valueMessage(error))
    }
  }

  /// `offset N: reason`, or the reason alone: the error without the flag, which the argument
  /// parser's own message names (`The value '…' is invalid for '--algorithm-kwargs <json>': …`).
  private static func valueMessage(_ error: UsageError) -> String {
    (error.offset.map { "offset \($0): " } ?? "") + error.reason
  }

  /// Checks the keys against an algorithm given on the command line (`--algorithm auto` is
  /// checked by the converter once the layout is detected).
  func validate(for choice: AlgorithmChoice) throws {
    guard let algorithm = ConversionAlgorithm(rawValue: choice.rawValue) else { return }
    do {
      _ = try checked(for: algorithm)
    } catch {
      throw ValidationError("\(error.file): \(error.reason)")
    }
  }
}
