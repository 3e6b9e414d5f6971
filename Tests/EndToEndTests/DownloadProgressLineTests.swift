import Testing

@testable import speculators

@Suite("Download progress line")
struct DownloadProgressLineTests {
  @Test("progress lines show sizes in decimal units, percent and rate")
  func progressLine() {
    #expect(TerminalProgressReporter.formatBytes(999) == "999 B")
    #expect(TerminalProgressReporter.formatBytes(16_060_000_000) == "16.1 GB")
    #expect(
      TerminalProgressReporter.progressLine(label: "org/m: model.safetensors", bytes: 150_000, total: 300_000, rate: "1.0 MB/s")
        == "org/m: model.safetensors  50%  150.0 kB / 300.0 kB  1.0 MB/s")
    #expect(TerminalProgressReporter.progressLine(label: "x", bytes: 10, total: nil, rate: "") == "x  10 B  ")
  }
}
