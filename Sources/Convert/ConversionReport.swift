import Inspect
import Validate

/// What a conversion did: where the output is, its files, every tensor (and where it came
/// from), every dropped tensor, the feature flags, warnings and the validation that ran.
///
/// ``json()`` is the `--json` document (`schemas/convert-report.schema.json`);
/// The executable renders it for the terminal.
public struct ConversionReport: Sendable {
  /// One output tensor and its provenance.
  public struct MappedTensor: Sendable, Hashable {
    /// The Speculators name.
    public var name: String
    /// The output dtype.
    public var dtype: DType
    /// The shape.
    public var shape: [Int]
    /// The output file holding it.
    public var file: String
    /// Where the values came from.
    package var origin: AuditManifest.Origin
    /// The source tensor's name (`nil` when synthesised).
    public var sourceName: String?
    /// The source tensor's dtype (`nil` when synthesised).
    public var sourceDType: DType?
  }

  /// The validation that ran on the output before it was moved into place.
  public struct Validation: Sendable {
    /// The `--validate-device` value.
    public var device: String
    /// The checks that ran, each a short description.
    public var checks: [String]
    /// Notes (for example that no forward pass runs).
    public var notes: [String]
    /// The verify report of the output (its findings are warnings: an error stops the conversion).
    public var report: VerifyReport?
  }

  /// Whether vLLM serves the output, and how.
  public struct Serving: Sendable, Hashable {
    /// The vLLM release the verdict was measured against (``VLLMServing/measuredVersion``).
    public var vllmVersion: String
    /// The speculative method vLLM runs for the output (its `speculators_model_type`).
    public var method: String
    /// The exact commands that serve it; `nil` when vLLM refuses the output.
    public var commands: VLLMServing.ServeCommands?
    /// Why vLLM refuses the output (`nil` when it serves).
    public var refusal: String?
    /// What serves the draft in vLLM instead, when the output is refused: the command for the
    /// original checkpoint, or why nothing does.
    public var alternative: String?

    /// The verdict for an output of `method` written to `output` for `verifier`; `source` is the
    /// original checkpoint and `layernorms` whether it is a HASS draft with the extra norms.
    package init(
      output: String, method: String, verifier: String, speculativeTokens: Int, source: String,
      layernorms: Bool
    ) {
      vllmVersion = VLLMServing.measuredVersion
      self.method = method
      commands = VLLMServing.serveCommands(
        output: output, method: method, verifier: verifier, speculativeTokens: speculativeTokens)
      guard commands == nil else { return }
      refusal = "vLLM \(vllmVersion) refuses speculators_model_type '\(method)' (it serves only "
        + VLLMServing.servedSpeculatorsTypes.joined(separator: ", ") + ")"
      guard method == "eagle" else { return }
      refusal! += "; speculators <= 0.6 still reads it"
      alternative =
        layernorms
        ? VLLMServing.hassLayernormsUnserved
        : "serve the original EAGLE-1 checkpoint: "
          + VLLMServing.originalEagleCommand(
            source: source, verifier: verifier, speculativeTokens: speculativeTokens)
    }

    /// The `serving` member of the `--json` document.
    public func json() -> JSONValue {
      [
        "vllm_version": .string(vllmVersion), "method": .string(method), "served": .bool(commands != nil),
        "serve_command": commands.map { .string($0.serve) } ?? .null,
        "speculative_config_command": commands.map { .string($0.speculativeConfig) } ?? .null,
        "refusal": refusal.map(JSONValue.string) ?? .null,
        "alternative": alternative.map(JSONValue.string) ?? .null,
      ]
    }
  }

  /// The output path as given.
  public var outputPath: String
  /// Its absolute form.
  public var resolvedOutputPath: String
  /// The algorithm used.
  public var algorithm: ConversionAlgorithm
  /// The detected source format.
  public var sourceFormat: String
  /// Where the source came from.
  public var source: SourceProvenance
  /// Where the verifier came from.
  public var verifier: SourceProvenance
  /// Every output file (including the manifest), sorted by name.
  package var files: [AuditManifest.FileDigest]
  /// Every output tensor, sorted by name.
  public var tensors: [MappedTensor]
  /// Every dropped source tensor, sorted by name.
  package var dropped: [ConversionMapping.Drop]
  /// Feature flags and derived config values.
  public var flags: [(key: String, value: JSONValue)]
  /// Notes for the user.
  public var warnings: [String]
  /// The validation that ran, if `--validate-device` was given.
  public var validation: Validation?
  /// Whether vLLM serves the output, with the serve commands.
  public var serving: Serving

  /// The `--json` document.
  public func json() -> JSONValue {
    func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    func provenance(_ value: SourceProvenance) -> JSONValue {
      [
        "given": .string(value.given), "resolved_path": .string(value.resolvedPath),
        "hub_id": optional(value.hubID),
        "revision": optional(value.revision),
      ]
    }
    var sourceObject = provenance(source)
    sourceObject = sourceObject.setting("format", to: .string(sourceFormat))
    let validationValue: JSONValue =
      validation.map { check in
        [
          "device": .string(check.device), "checks": .array(check.checks.map(JSONValue.string)),
          "notes": .array(check.notes.map(JSONValue.string)),
        ]
      } ?? .null
    return [
      "output_path": .string(outputPath),
      "resolved_output_path": .string(resolvedOutputPath),
      "algorithm": .string(algorithm.rawValue),
      "source": sourceObject,
      "verifier": provenance(verifier),
      "files": .array(
        files.map { ["name": .string($0.name), "size": .int(Int64($0.size)), "sha256": .string($0.sha256)] }),
      "tensors": .array(
        tensors.map { tensor in
          [
            "name": .string(tensor.name), "dtype": .string(tensor.dtype.rawValue),
            "shape": .array(tensor.shape.map { .int(Int64($0)) }), "file": .string(tensor.file),
            "origin": .string(tensor.origin.rawValue), "source_name": optional(tensor.sourceName),
            "source_dtype": optional(tensor.sourceDType?.rawValue),
          ]
        }),
      "dropped": .array(
        dropped.map {
          ["name": .string($0.name), "reason": .string($0.reason), "requested": .bool($0.requested)]
        }),
      "flags": .object(flags),
      "warnings": .array(warnings.map(JSONValue.string)),
      "validation": validationValue,
      "serving": serving.json(),
    ]
  }
}
