// libFuzzer target: config.json handling — the strict JSON parser, the typed ModelConfig view
// of an object, and the JSON writers.
//
// Properties checked besides "no crash, no sanitizer report, no hang": what the writers print
// (compact, and pretty in document order) parses back to the same value.
import FuzzSupport
@testable import Inspect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let value: JSONValue
  do throws(StrictJSONParser.Failure) {
    value = try StrictJSONParser.parse(bytes)
  } catch {
    guard error.offset >= 0, error.offset <= size else { fatalError("error offset \(error.offset) outside the input") }
    return 0
  }
  for text in [JSONWriter.compact(value), JSONWriter.pretty(value, sortKeys: false)] {
    guard let again = try? StrictJSONParser.parse(Array(text.utf8)) else {
      fatalError("writer output does not parse: \(text)")
    }
    guard again == value else { fatalError("writer output parses to a different value: \(text)") }
  }
  _ = JSONWriter.pretty(value)
  guard value.objectMembers != nil else { return 0 }
  let config = ModelConfig(value)
  for view in [config, config.layer].compactMap({ $0 }) {
    _ = (view.modelType, view.architectures, view.hiddenSize, view.intermediateSize, view.numHiddenLayers)
    _ = (view.numAttentionHeads, view.numKeyValueHeads, view.headDim, view.vocabSize, view.draftVocabSize)
    _ = (view.targetHiddenSize, view.dtype, view.speculatorsModelType, view.anyVocabSize)
  }
  return 0
}

@main enum FuzzConfigJSON {
  static func main() { runFuzzer(fuzzConfigJSON) }
}
