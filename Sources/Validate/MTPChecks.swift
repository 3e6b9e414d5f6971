import Inspect

/// `mtp.layers-present`: a verifier whose config promises multi-token-prediction layers
/// (`num_nextn_predict_layers`, `mtp_num_hidden_layers`) holds them. Quantized or stripped
/// exports often drop them; vLLM then loads random MTP weights or, since vLLM #35548, refuses.
enum MTPChecks {
  static func check(_ run: VerificationRun, detection: Detection) {
    let coverage = FormatDetector.mtpCoverage(run.checkpoint)
    guard let promised = coverage.promised else {
      run.notApplicable([.mtpLayersPresent])
      return
    }
    run.ran(.mtpLayersPresent)
    guard coverage.present < promised else { return }
    let key =
      run.model?.int("num_nextn_predict_layers") != nil ? "num_nextn_predict_layers" : "mtp_num_hidden_layers"
    let layers = run.model?.numHiddenLayers
    let place = layers.map { "model.layers.\($0)+, mtp.* or model.mtp_layers.*" } ?? "mtp.* or model.mtp_layers.*"
    run.report(
      .mtpLayersPresent, .error, key: key, expected: "\(promised) MTP layer(s) (\(place))",
      found: String(coverage.present),
      "\(key): the config promises \(promised) MTP layer(s) but the tensors hold \(coverage.present) "
        + "(a quantized or stripped export; vLLM would serve random MTP weights or refuse)")
  }
}
