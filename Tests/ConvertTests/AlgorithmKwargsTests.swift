import Inspect
import Testing

@testable import Convert

@Suite("AlgorithmKwargs")
struct AlgorithmKwargsTests {
  @Test("eagle3 kwargs are read with their types")
  func eagle3() throws {
    let kwargs = try AlgorithmKwargs(
      parsing:
        #"{"norm_before_residual": true, "eagle_aux_hidden_state_layer_ids": [2, 16, 29], "norm_output": false}"#
    ).checked(for: .eagle3)
    #expect(kwargs.normBeforeResidual == true)
    #expect(kwargs.auxHiddenStateLayerIDs == [2, 16, 29])
    #expect(kwargs.normOutput == false)
    #expect(kwargs.layernorms == nil)
  }

  @Test("an unknown kwarg is an error naming it and the valid ones")
  func unknown() throws {
    let kwargs = try AlgorithmKwargs(parsing: #"{"layernorms": true, "cache_dir": "/tmp"}"#)
    #expect(throws: UsageError("--algorithm-kwargs", reason: "unknown eagle kwarg 'cache_dir' (valid: fusion_bias, layernorms)")) {
      try kwargs.checked(for: .eagle)
    }
    let wrongAlgorithm = #expect(throws: UsageError.self) { try kwargs.checked(for: .eagle3) }
    #expect(wrongAlgorithm?.reason.contains("unknown eagle3 kwarg 'layernorms'") == true)
  }

  @Test(
    "bad JSON, non-objects and wrong types are errors",
    arguments: [
      (#"{"layernorms": tru}"#, "invalid JSON"),
      (#"[1]"#, "must be a JSON object, not array"),
      (#"{"fusion_bias": "yes"}"#, "'fusion_bias' must be true or false, not string"),
      (#"{"eagle_aux_hidden_state_layer_ids": [1, -2]}"#, "must hold integers from 0 to 65535"),
      (#"{"a": 1, "a": 2}"#, "invalid JSON"),
    ])
  func bad(text: String, message: String) {
    let error = #expect(throws: UsageError.self) { try AlgorithmKwargs(parsing: text) }
    #expect(error?.file == "--algorithm-kwargs")
    #expect(error?.reason.contains(message) == true, "\(error?.reason ?? "")")
    #expect((error?.offset != nil) == message.hasPrefix("invalid JSON"))
  }

  @Test("invalid JSON is reported with its byte offset")
  func offset() {
    let error = #expect(throws: UsageError.self) { try AlgorithmKwargs(parsing: #"{"layernorms": tru}"#) }
    #expect(error?.offset == 15)
    #expect(error?.description.hasPrefix("--algorithm-kwargs: offset 15: invalid JSON: ") == true, "\(error?.description ?? "")")
  }
}
