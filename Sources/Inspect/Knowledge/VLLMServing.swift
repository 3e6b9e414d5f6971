/// What vLLM does with a draft checkpoint, as measured against the vLLM release named in
/// ``measuredVersion`` (`docs/vllm.md` holds the measurements). Convert and verify take their
/// serving verdicts from here, so both say the same thing.
///
/// Sources: vLLM `transformers_utils/configs/speculators/algos.py` (the registered speculators
/// types) and `base.py` (the refusal), `model_executor/models/llama_eagle3.py` and
/// `llama_eagle.py` (the draft models), `model_executor/models/llama.py` (the default aux taps).
public enum VLLMServing {
  /// The vLLM release the verdicts were measured against.
  package static let measuredVersion = "0.32.0"

  /// The `speculators_model_type` values vLLM's speculators config reader accepts; any other
  /// value is refused at config validation ("Expected one of: ...").
  package static let servedSpeculatorsTypes: [String] = ["eagle3", "peagle", "dflash", "dflash2", "dspark"]

  /// Whether vLLM serves a Speculators checkpoint of this type (`vllm serve DIR`).
  package static func serves(speculatorsType type: String) -> Bool {
    servedSpeculatorsTypes.contains(type)
  }

  /// What of a served Speculators checkpoint vLLM runs only on its V2 model runner, which needs
  /// Triton (a GPU build): the V1 runner, the one vLLM's CPU build runs, refuses it at config
  /// validation ("Model Runner V1 does not support: ..."). `nil` when the V1 runner serves it.
  ///
  /// Source: vLLM `config/vllm.py`, `_get_v1_model_runner_unsupported_features`: dspark; a
  /// dflash-method draft whose architectures name a candidate head (`DFlash2DraftModel`,
  /// `LiLiCorrDraftModel`); a dflash-method draft mixing sliding-window and full attention.
  /// `dflash2` is served with method dflash (`transformers_utils/configs/speculators/base.py`).
  package static func v2RunnerOnlyFeature(
    speculatorsType type: String, architectures: [String], layerTypes: [String]
  ) -> String? {
    if type == "dspark" { return "dspark speculative decoding" }
    guard type == "dflash" || type == "dflash2" else { return nil }
    if let head = architectures.first(where: { candidateHeadArchitectures.contains($0) }) {
      return "DFlash candidate-head drafts (\(head))"
    }
    let sliding = layerTypes.count { $0 == "sliding_attention" }
    if sliding > 0, sliding < layerTypes.count { return "mixed sliding/full dflash drafts" }
    return nil
  }

  /// Draft architectures vLLM's V2 speculator gives a candidate head.
  private static let candidateHeadArchitectures: Set<String> = ["DFlash2DraftModel", "LiLiCorrDraftModel"]

  /// Why a speculators `eagle` checkpoint is refused, who still reads it, and what vLLM serves
  /// instead.
  package static let eagleRefusal =
    "vLLM \(measuredVersion) refuses speculators_model_type 'eagle' (it serves only "
    + servedSpeculatorsTypes.joined(separator: ", ")
    + "); speculators <= 0.6 still reads it. vLLM serves the original EAGLE-1 checkpoint with "
    + "--speculative-config method \"eagle\"; \(hassLayernormsUnserved)"

  /// Why no form of a HASS draft with `embed_layernorm`/`hidden_layernorm`/`lm_head_layernorm`
  /// is served.
  package static let hassLayernormsUnserved =
    "nothing in vLLM \(measuredVersion) serves a HASS draft with layernorms (its EAGLE model has no "
    + "embed_layernorm: \"There is no module or parameter named 'embed_layernorm'\")"

  /// The command that serves an original EAGLE-1 checkpoint (SafeAILab layout) in vLLM.
  package static func originalEagleCommand(source: String, verifier: String, speculativeTokens: Int) -> String {
    speculativeConfigCommand(method: "eagle", draft: source, verifier: verifier, speculativeTokens: speculativeTokens)
  }

  /// `vllm serve VERIFIER --speculative-config JSON` with `method` spelled out.
  static func speculativeConfigCommand(
    method: String, draft: String, verifier: String, speculativeTokens: Int
  ) -> String {
    let json =
      "{\"method\": \"\(jsonEscaped(method))\", \"model\": \"\(jsonEscaped(draft))\", "
      + "\"num_speculative_tokens\": \(speculativeTokens)}"
    return "vllm serve \(shellQuoted(verifier)) --speculative-config \(shellQuoted(json))"
  }

  /// The aux hidden-state layers vLLM taps for an EAGLE-3 draft that names none:
  /// `(2, L/2, L-3)` for an `L`-layer verifier.
  package static func defaultAuxLayerIDs(verifierLayers layers: Int) -> [Int] {
    [2, layers / 2, layers - 3]
  }

  /// The highest aux layer id vLLM can tap in an `L`-layer verifier: it collects the input of
  /// layer 0 (the embeddings) and the output of every layer `i` under id `i + 1`, so `L` (the
  /// last layer's output, before the final norm) is valid and anything above is never collected.
  package static func highestAuxLayerID(verifierLayers layers: Int) -> Int { layers }

  /// Why vLLM cannot use its default taps for this verifier, or `nil` when they work: vLLM
  /// collects only distinct layers inside the verifier, so a repeated or out-of-range tap leaves
  /// `fc` short of its input and the first decode step fails.
  package static func defaultTapsProblem(verifierLayers layers: Int) -> String? {
    let taps = defaultAuxLayerIDs(verifierLayers: layers)
    let outside = taps.filter { $0 < 0 || $0 > highestAuxLayerID(verifierLayers: layers) }
    if !outside.isEmpty {
      return "vLLM's default taps \(taps) for a \(layers)-layer verifier fall outside its layers"
    }
    if Set(taps).count != taps.count {
      return "vLLM's default taps \(taps) for a \(layers)-layer verifier repeat a layer"
    }
    return nil
  }

  /// The ways to serve a Speculators output directory.
  public struct ServeCommands: Sendable, Hashable {
    /// `vllm serve OUTPUT`: vLLM reads the speculators config and takes the verifier from
    /// `speculators_config.verifier.name_or_path`.
    public var serve: String
    /// `vllm serve VERIFIER --speculative-config JSON`, with `method` spelled out (without it vLLM
    /// guesses the method from the directory name).
    public var speculativeConfig: String
  }

  /// The serve commands for an output of `method` (its speculators type) at `output`, verified
  /// by `verifier`, drafting `speculativeTokens` tokens; `nil` when vLLM does not serve the type.
  package static func serveCommands(
    output: String, method: String, verifier: String, speculativeTokens: Int
  ) -> ServeCommands? {
    guard serves(speculatorsType: method) else { return nil }
    return ServeCommands(
      serve: "vllm serve \(shellQuoted(output))",
      speculativeConfig: speculativeConfigCommand(
        method: method, draft: output, verifier: verifier, speculativeTokens: speculativeTokens))
  }

  /// A POSIX shell word for `text` (single-quoted unless it is plain).
  static func shellQuoted(_ text: String) -> String {
    let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
        || "-_./:@=+,".unicodeScalars.contains(scalar))
    }
    if plain { return text }
    var quoted = "'"
    for character in text {
      if character == "'" { quoted += "'\\''" } else { quoted.append(character) }
    }
    return quoted + "'"
  }

  /// `text` as the inside of a JSON string.
  static func jsonEscaped(_ text: String) -> String {
    String(JSONWriter.compact(.string(text)).dropFirst().dropLast())
  }
}
