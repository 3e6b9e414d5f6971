import Foundation
import Testing

@testable import Inspect

/// Error lines carry names taken from untrusted files; they must stay one printable line.
@Suite struct CheckpointErrorPrintableTests {
  @Test func controlAndBidiCharactersAreEscaped() {
    let error = CheckpointError(
      .malformed, file: "m.safetensors", offset: 8, tensor: "a\u{1B}[2J\nb\u{202E}c\u{85}",
      reason: "bad\r\u{7F}")
    #expect(error.description == "m.safetensors: offset 8: tensor 'a\\x1b[2J\\x0ab\\u{202E}c\\u{85}': bad\\x0d\\x7f")
  }

  @Test func ordinaryTextIsUnchanged() {
    let error = CheckpointError(.malformed, file: "/tmp/é.bin", tensor: "layers.0.ω", reason: "shape [2, 3] ✓")
    #expect(error.description == "/tmp/é.bin: tensor 'layers.0.ω': shape [2, 3] ✓")
  }

  @Test("a hostile tensor name in a safetensors error cannot drive the terminal")
  func safetensorsTensorName() throws {
    let header = Array(#"{"\u001b]0;owned\u0007x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#.utf8)
    var file = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
    file += [0, 0, 0, 0]
    let error = try #require(throws: CheckpointError.self) {
      _ = try file.withUnsafeBytes { bytes throws(CheckpointError) in
        try SafetensorsReader.readHeader(bytes: bytes, path: "x.safetensors")
      }
    }
    #expect(error.tensor == "\u{1B}]0;owned\u{07}x")
    #expect(error.description.contains("tensor '\\x1b]0;owned\\x07x'"), "\(error.description)")
    #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 })
  }
}

/// Every domain's error prints through the one rendering (`LocatedError.line`).
@Suite struct UsageErrorPrintableTests {
  @Test("a usage error renders as argument: tensor: reason, escaped like a reading error")
  func sameLineAsAReadingError() {
    let usage = UsageError("d\u{1B}[2J", tensor: "x\u{202E}", reason: "bad\n")
    let reading = CheckpointError(.malformed, file: "d\u{1B}[2J", tensor: "x\u{202E}", reason: "bad\n")
    #expect(usage.description == "d\\x1b[2J: tensor 'x\\u{202E}': bad\\x0a")
    #expect(usage.description == reading.description)
  }
}
