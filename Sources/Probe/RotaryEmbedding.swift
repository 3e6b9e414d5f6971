import Foundation
import Inspect

/// Rotary position embedding in the "rotate half" layout Hugging Face Llama/Qwen checkpoints
/// use: dimension `i` pairs with `i + headDim/2`.
struct RotaryEmbedding: Sendable {
  /// The config values that fix the frequencies.
  struct Parameters: Sendable, Hashable {
    /// `rope_theta`.
    var theta: Double
    /// The inverse frequency of each of the `headDim / 2` pairs, after scaling.
    var inverseFrequencies: [Double]

    /// Reads `rope_theta` and `rope_scaling` (or transformers 5's `rope_parameters`).
    ///
    /// Scaling types: none/`default`, `linear` (positions divided by `factor`) and `llama3`
    /// (Llama 3.1's wavelength-dependent scaling); any other is refused.
    init(config: ModelConfig, headDim: Int, file: String) throws(ProbeError) {
      let parameters = config.value("rope_parameters")
      let scaling = config.value("rope_scaling") ?? parameters
      let theta = config.value("rope_theta")?.doubleValue ?? parameters?["rope_theta"]?.doubleValue ?? 10000
      guard theta.isFinite, theta > 1 else {
        throw ProbeError(.invalidInput, file: file, reason: "rope_theta \(theta) must be a finite number above 1")
      }
      if let partial = config.value("partial_rotary_factor")?.doubleValue ?? parameters?["partial_rotary_factor"]?
        .doubleValue, partial != 1
      {
        throw ProbeError(.unsupported, file: file, reason: "partial_rotary_factor \(partial) is not supported")
      }
      self.theta = theta
      let half = headDim / 2
      var frequencies = (0..<half).map { 1 / pow(theta, Double(2 * $0) / Double(headDim)) }
      let type = scaling?["rope_type"]?.stringValue ?? scaling?["type"]?.stringValue ?? "default"
      func number(_ key: String) throws(ProbeError) -> Double {
        guard let value = scaling?[key]?.doubleValue, value.isFinite, value > 0 else {
          throw ProbeError(
            .invalidInput, file: file, reason: "rope_scaling '\(type)' needs a positive '\(key)'")
        }
        return value
      }
      switch type {
      case "default":
        break
      case "linear":
        let factor = try number("factor")
        frequencies = frequencies.map { $0 / factor }
      case "llama3":
        let factor = try number("factor")
        let low = try number("low_freq_factor")
        let high = try number("high_freq_factor")
        let original = try number("original_max_position_embeddings")
        guard high > low else {
          throw ProbeError(
            .invalidInput, file: file, reason: "rope_scaling high_freq_factor must exceed low_freq_factor")
        }
        let lowWavelength = original / low
        let highWavelength = original / high
        frequencies = frequencies.map { frequency in
          let wavelength = 2 * Double.pi / frequency
          if wavelength < highWavelength { return frequency }
          if wavelength > lowWavelength { return frequency / factor }
          let smooth = (original / wavelength - low) / (high - low)
          return (1 - smooth) * frequency / factor + smooth * frequency
        }
      default:
        throw ProbeError(
          .unsupported, file: file, reason: "rope_scaling type '\(type)' is not supported (default, linear, llama3)")
      }
      inverseFrequencies = frequencies
    }
  }

  let headDim: Int
  private let inverseFrequencies: [Double]

  init(_ parameters: Parameters, headDim: Int) {
    self.headDim = headDim
    inverseFrequencies = parameters.inverseFrequencies
  }

  /// Rotates `heads` vectors of `headDim` values at `vector` in place, for `position`.
  func rotate(_ vector: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
    let half = headDim / 2
    var cosines = [Float](repeating: 0, count: half)
    var sines = [Float](repeating: 0, count: half)
    for i in 0..<half {
      // Angles in single precision, as the reference computes position × inv_freq in float32.
      let angle = Float(position) * Float(inverseFrequencies[i])
      cosines[i] = cos(angle)
      sines[i] = sin(angle)
    }
    for head in 0..<heads {
      let v = vector + head * headDim
      for i in 0..<half {
        let a = v[i]
        let b = v[i + half]
        v[i] = a * cosines[i] - b * sines[i]
        v[i + half] = b * cosines[i] + a * sines[i]
      }
    }
  }
}
