// The one file that knows which C library the platform has. Every other file reaches the C
// library through this module (`import Platform` re-exports it) and the helpers below, so that
// platform differences, `errno`, `EINTR` and `strerror` are handled in one place.
#if canImport(Glibc)
  @_exported import Glibc
#elseif canImport(Musl)
  @_exported import Musl
#elseif canImport(Darwin)
  @_exported import Darwin
#endif

/// System calls as the readers, writers and commands use them: the system's reason for a
/// failure, retries of calls interrupted by a signal, and the few calls that differ between
/// platforms.
package enum System {
  /// The system's description of `code` (`strerror`), by default of the last failure
  /// (`errno`).
  package static func message(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
  }

  /// Calls `body` until it succeeds or fails for a reason other than an interrupting signal
  /// (`EINTR`); returns its last result (negative on failure, `errno` set).
  package static func retryingInterrupts<Result: BinaryInteger>(_ body: () -> Result) -> Result {
    while true {
      let result = body()
      if result < 0 && errno == EINTR { continue }
      return result
    }
  }

  /// The number of processors online (at least 1).
  package static var processorCount: Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  }

  /// The size of a memory page (at least 4096).
  package static let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

  /// Asks the kernel to back `count` bytes at `address` with huge pages where it can (Linux
  /// `MADV_HUGEPAGE`); a hint only, nothing happens elsewhere.
  package static func adviseHugePages(_ address: UnsafeMutableRawPointer, count: Int) {
    #if os(Linux)
      _ = madvise(address, count, MADV_HUGEPAGE)
    #endif
  }

  /// Swaps two paths atomically (`renameat2(RENAME_EXCHANGE)`, Linux 3.15+); `false` when the
  /// system or file system cannot (the caller then falls back to two renames).
  package static func exchangePaths(_ first: String, _ second: String) -> Bool {
    #if os(Linux)
      guard let renameat2 = renameAt2 else { return false }
      return renameat2(AT_FDCWD, first, AT_FDCWD, second, 2 /* RENAME_EXCHANGE */) == 0
    #else
      return false
    #endif
  }

  #if os(Linux)
    private typealias RenameAt2 =
      @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    /// glibc's `renameat2` (2.28+), looked up at run time: the Swift Glibc module does not
    /// export it.
    private static let renameAt2: RenameAt2? = {
      guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else { return nil }
      return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
  #endif
}
