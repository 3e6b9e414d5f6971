#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// libFuzzer's driver (`-sanitize=fuzzer` links it): parses libFuzzer's command line and runs
/// the fuzzing loop with `callback` as the test-one-input function.
@_silgen_name("LLVMFuzzerRunDriver")
private func runLibFuzzerDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// A fuzz target's body: called with each input, returns 0 (libFuzzer's convention).
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer with the process's arguments and `target`, then exits with libFuzzer's status.
///
/// SwiftPM links executables with their own entry point (`<module>_main`), so libFuzzer's
/// `main` is not used; each fuzz target's `@main` calls this instead.
public func runFuzzer(_ target: FuzzTarget) -> Never {
  var argc = CommandLine.argc
  var argv = CommandLine.unsafeArgv
  exit(runLibFuzzerDriver(&argc, &argv, target))
}
