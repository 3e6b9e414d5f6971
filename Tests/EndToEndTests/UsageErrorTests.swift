import Testing

/// Flag values the argument parser refuses before any file is read: exit status 2 and one line,
/// `error: MESSAGE (see --help)`, on stderr.
@Suite struct UsageErrorTests {
  @Test(arguments: [
    (["diff", "/nonexistent/a", "/nonexistent/b", "--rtol=-1"], "error: --rtol must be a finite number >= 0"),
    (["diff", "/nonexistent/a", "/nonexistent/b", "--atol", "nan"], "error: --atol must be a finite number >= 0"),
    (["verify"], "error: verify: missing PATH (the checkpoint to verify)"),
    (
      ["inspect", "org/name", "--endpoint", "huggingface.co"],
      "error: --endpoint must be an http(s) URL with a host, such as https://huggingface.co"
    ),
    (["verify", "/nonexistent/draft", "--probe", "--max-tokens", "0"], "error: --max-tokens must be in 1...1048576"),
    (
      ["verify", "/nonexistent/draft", "--probe", "--num-speculative-tokens", "33"],
      "error: --num-speculative-tokens must be in 1...32"
    ),
    (["probe", "/nonexistent/draft", "--verifier", "/nonexistent/v", "--max-tokens", "0"], "error: --max-tokens must be in 1...1048576"),
    (
      ["convert", "/nonexistent/draft", "--algorithm", "eagle3", "--verifier", "/nonexistent/v", "--algorithm-kwargs", "[1]"],
      "error: The value '[1]' is invalid for '--algorithm-kwargs <json>': must be a JSON object, not array"
    ),
    (
      ["convert", "/nonexistent/draft", "--algorithm", "eagle3", "--verifier", "/nonexistent/v", "--algorithm-kwargs", "{oops"],
      "error: The value '{oops' is invalid for '--algorithm-kwargs <json>': offset 1: invalid JSON: expected a string key"
    ),
    (
      [
        "convert", "/nonexistent/draft", "--algorithm", "dflash", "--verifier", "/nonexistent/v", "--algorithm-kwargs",
        #"{"layernorms": true}"#,
      ],
      "error: --algorithm-kwargs: unknown dflash kwarg 'layernorms' (valid: aux_hidden_state_layer_ids)"
    ),
  ])
  func refusedBeforeReading(arguments: [String], message: String) throws {
    let result = try runSpeculators(arguments)
    #expect(result.status == 2)
    #expect(result.stderr == message + " (see --help)\n", "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }
}
