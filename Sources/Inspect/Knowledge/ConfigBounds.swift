/// The bounds on the numbers of a `config.json` that sizes, counts and shapes are computed
/// from. Every such number is checked here before any arithmetic uses it: a hostile or broken
/// config (`hidden_size: 0`, `head_dim: 2^62`, `num_hidden_layers: 4294967296`) must give a
/// finding or a refusal, never a division by zero, an overflow or an unbounded allocation.
///
/// Sizes (hidden, intermediate, vocabulary, head and position sizes) are integers from 1 to
/// 2^24; counts (layers, heads) are integers from 1 to 2^16. The largest released models stay
/// far inside both (vocabularies of 262 144, hidden sizes of 16 384, 128 layers, 128 heads).
package enum ConfigBounds {
  /// The largest size (2^24).
  package static let maximumSize = 1 << 24
  /// The largest layer or head count (2^16).
  package static let maximumCount = 1 << 16

  /// The bounded keys and their largest value.
  package static let maximums: [String: Int] = [
    "hidden_size": maximumSize, "emb_dim": maximumSize, "intermediate_size": maximumSize,
    "vocab_size": maximumSize, "draft_vocab_size": maximumSize, "truncated_vocab_size": maximumSize,
    "target_hidden_size": maximumSize, "head_dim": maximumSize, "max_position_embeddings": maximumSize,
    "num_hidden_layers": maximumCount, "num_attention_heads": maximumCount,
    "num_key_value_heads": maximumCount, "n_predict": maximumCount, "medusa_num_heads": maximumCount,
    // DFlash and its variants.
    "block_size": maximumCount, "conv_kernel_size": maximumCount, "conv_group_size": maximumSize,
    "selector_rank": maximumSize, "markov_rank": maximumSize,
  ]

  /// The nested objects of a config whose bounded keys are checked too.
  static let scopes = ["text_config", "transformer_layer_config", "dflash_config"]

  /// A bounded number outside its bounds.
  package struct Violation: Sendable, Hashable {
    /// The dotted key path, e.g. `transformer_layer_config.hidden_size`.
    package var path: String
    /// The value as written (JSON).
    package var found: String
    /// What was expected, e.g. `an integer from 1 to 16777216`.
    package var expected: String

    /// `<path> is <found>; expected <expected>`.
    package var message: String { "\(path) is \(found); expected \(expected)" }
  }

  /// `value` as an `Int` when `key` is unbounded and `value` is an integer, or `key` is
  /// bounded and `value` is an integer inside its bounds; otherwise `nil`.
  package static func checked(_ key: String, _ value: JSONValue?) -> Int? {
    guard let maximum = maximums[key] else { return value?.intValue }
    // An integer literal only: `64.0` is a float to Python, and torch refuses float sizes.
    guard case .int(let raw) = value, let number = Int(exactly: raw), (1...maximum).contains(number) else {
      return nil
    }
    return number
  }

  /// What a bounded key expects.
  package static func expectation(_ key: String) -> String? {
    maximums[key].map { "an integer from 1 to \($0)" }
  }

  /// The bounded keys of `config` (top level, `text_config`, `transformer_layer_config`)
  /// whose present, non-null value is not an integer inside its bounds.
  package static func violations(in config: JSONValue) -> [Violation] {
    var found: [Violation] = []
    func scan(_ object: JSONValue?, prefix: String) {
      guard let members = object?.objectMembers else { return }
      for (key, value) in members where !value.isNull {
        guard let expected = expectation(key), checked(key, value) == nil else { continue }
        found.append(Violation(path: prefix + key, found: JSONWriter.compact(value), expected: expected))
      }
    }
    scan(config, prefix: "")
    for scope in scopes { scan(config[scope], prefix: scope + ".") }
    return found
  }
}
