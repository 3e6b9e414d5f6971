import Testing

@Suite struct VersionTests {
  @Test func printsVersionInTheSeedSpelling() throws {
    let result = try runSpeculators(["--version"])
    #expect(result.status == 0)
    #expect(result.stdout == "speculators version: 0.1.0\n")
  }

  @Test func unknownSubcommandIsAUsageError() throws {
    let result = try runSpeculators(["frobnicate"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("frobnicate"))
  }
}
