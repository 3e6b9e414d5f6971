import Foundation
import HubEmulatorSupport
import Inspect
import Testing

@testable import ModelSources

@Suite("Model references, file selection and header parsing")
struct HubReferenceTests {
  @Test(
    "references parse as local paths, Hub ids or URLs",
    arguments: [
      ("meta-llama/Llama-3.1-8B-Instruct", "hub meta-llama/Llama-3.1-8B-Instruct@nil"),
      ("org/name@v1.0", "hub org/name@v1.0"),
      ("org/name@refs/pr/1", "hub org/name@refs/pr/1"),
      ("hf://org/name@0123456789abcdef0123456789abcdef01234567", "hub org/name@0123456789abcdef0123456789abcdef01234567"),
      ("https://example.org/m/model.safetensors", "url https://example.org/m/model.safetensors"),
      ("./org/name", "local ./org/name"),
      ("some/deep/path", "local some/deep/path"),
      ("model.safetensors", "local model.safetensors"),
      ("drafts/model.safetensors", "local drafts/model.safetensors"),
      ("exists/here", "local exists/here"),
    ])
  func parse(text: String, expected: String) throws {
    let reference = try ModelReference.parse(text) { $0 == "exists/here" }
    switch reference {
    case .hub(let repository, let revision): #expect("hub \(repository.id)@\(revision ?? "nil")" == expected)
    case .url(let url): #expect("url \(url.absoluteString)" == expected)
    case .local(let path): #expect("local \(path)" == expected)
    }
  }

  @Test(
    "malformed references are refused with a reason",
    arguments: [
      ("hf://org--x/name", "hf://org--x/name: not a Hugging Face Hub id"),
      ("org/name@../../etc", "org/name@../../etc: '../../etc' is not a valid revision"),
      ("s3://bucket/model", "s3://bucket/model: 's3://' sources are not supported"),
      ("https://", "https://: not a valid http(s) URL"),
    ])
  func malformed(text: String, prefix: String) {
    let error = #expect(throws: SourceError.self) { try ModelReference.parse(text) { _ in false } }
    #expect(error?.description.hasPrefix(prefix) == true)
  }

  @Test("a local path that does not exist is reported as such")
  func missingLocal() {
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("/nonexistent/draft", need: .checkpoint, options: HubOptions(
        cacheDirectory: "/nonexistent/cache", urlCacheDirectory: "/nonexistent/urls", offline: true))
    }
    #expect(error?.description.hasPrefix("/nonexistent/draft: no such file or directory") == true)
  }

  @Test("a symbolic link to nothing, or a loop, is reported as a link that leads nowhere")
  func danglingLocal() throws {
    let directory = FileManager.default.temporaryDirectory.path + "/dangling-\(UInt64.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createSymbolicLink(atPath: directory + "/dangling", withDestinationPath: directory + "/absent")
    try FileManager.default.createSymbolicLink(atPath: directory + "/loop", withDestinationPath: directory + "/loop")
    #expect(FileSystem.existsWithoutFollowingLinks(directory + "/dangling"))
    #expect(FileSystem.entry(at: directory + "/dangling") == .missing)
    #expect(!FileSystem.existsWithoutFollowingLinks(directory + "/absent"))
    for (name, reason) in [("dangling", "No such file or directory"), ("loop", "Too many levels of symbolic links")] {
      let error = #expect(throws: SourceError.self) {
        try SourceResolver.resolve(directory + "/" + name, need: .checkpoint, options: HubOptions(
          cacheDirectory: "/nonexistent/cache", urlCacheDirectory: "/nonexistent/urls", offline: true))
      }
      #expect(error?.description == "\(directory)/\(name): \(reason) (a symbolic link that leads nowhere usable)")
    }
  }

  @Test("an index naming an unsafe shard is refused")
  func unsafeShard() {
    let index = Array(#"{"weight_map": {"a": "../../etc/passwd"}}"#.utf8)
    let error = #expect(throws: SourceError.self) {
      try WeightSelection.shards(inIndex: index, for: .all, label: "org/m: model.safetensors.index.json")
    }
    #expect(error?.description == "org/m: model.safetensors.index.json: unsafe file name '../../etc/passwd' in the file list")
  }

  @Test(
    "ETags are normalised to safe blob names",
    arguments: [
      (#""abc123""#, "abc123"), (#"W/"abc""#, "abc"), ("plain", "plain"), (#""../x""#, nil), (#""a/b""#, nil),
    ] as [(String, String?)])
  func etag(raw: String, expected: String?) {
    #expect(HubClient.normalizeETag(raw) == expected)
  }

  @Test("Content-Range headers parse to start and total")
  func contentRange() {
    #expect(DownloadSink.parseContentRange("bytes 100-199/200")?.start == 100)
    #expect(DownloadSink.parseContentRange("bytes 100-199/200")?.total == 200)
    #expect(DownloadSink.parseContentRange("bytes 5-9/*")?.total == nil)
    #expect(DownloadSink.parseContentRange("items 1-2/3") == nil)
  }

  @Test("options read the variables huggingface_hub reads")
  func environment() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hf-home-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("hf_from_file\n".utf8).write(to: directory.appendingPathComponent("token"))
    let options = HubOptions.fromEnvironment(
      ["HOME": "/home/u", "HF_HOME": directory.path, "HF_HUB_OFFLINE": "TRUE", "HF_ENDPOINT": "http://127.0.0.1:1/"],
      progress: .silent)
    #expect(options.cacheDirectory == directory.path + "/hub")
    #expect(options.token == "hf_from_file")
    #expect(options.offline)
    #expect(options.endpoint == "http://127.0.0.1:1")
    #expect(options.urlCacheDirectory == "/home/u/.cache/speculators/urls")
    let explicit = HubOptions.fromEnvironment(
      ["HOME": "/home/u", "HF_HUB_CACHE": "~/hub", "HF_TOKEN": "hf_env", "HF_HOME": directory.path],
      cacheDirectory: nil, progress: .silent)
    #expect(explicit.cacheDirectory == "/home/u/hub")
    #expect(explicit.token == "hf_env")
    #expect(!explicit.offline)
    #expect(explicit.isEndpoint(URL(string: "https://huggingface.co/org/m/resolve/main/x")!))
    #expect(!explicit.isEndpoint(URL(string: "https://cdn-lfs.huggingface.co/x")!))
  }
}

@Suite("Mistyped paths are not Hub ids")
struct MistypedPathTests {
  @Test("a first segment naming a local directory makes the argument a path: no request, a did-you-mean")
  func typoInLocalDirectory() throws {
    let hub = try HubEmulator(repos: ["fx/verifier-small": singleFileRepo])
    let base = hub.workspace.path
    let here = FileManager.default.currentDirectoryPath
    try FileManager.default.createDirectory(atPath: base + "/fx/verifier-small", withIntermediateDirectories: true)
    FileManager.default.changeCurrentDirectoryPath(base)
    defer { FileManager.default.changeCurrentDirectoryPath(here) }
    #expect(try ModelReference.parse("fx/verifer-small") == .local(path: "fx/verifer-small"))
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("fx/verifer-small", need: .checkpoint, options: hub.options())
    }
    #expect(error?.description == "fx/verifer-small: no such file or directory (did you mean 'fx/verifier-small'?)")
    #expect(try hub.requests().isEmpty)
    // hf:// always means the Hub, even with a local fx/ beside it.
    guard case .hub(let repository, _) = try ModelReference.parse("hf://fx/verifier-small") else {
      Issue.record("hf:// did not parse as a Hub id")
      return
    }
    #expect(repository.id == "fx/verifier-small")
    _ = try SourceResolver.resolve("hf://fx/verifier-small", need: .configOnly, options: hub.options())
    #expect(try !hub.requests().isEmpty)
  }

  @Test("a two-segment id the Hub does not know leads with 'no local path'")
  func unknownHubID() throws {
    let hub = try HubEmulator(repos: [:])
    let error = #expect(throws: SourceError.self) {
      try SourceResolver.resolve("nobody/nothing", need: .configOnly, options: hub.options())
    }
    #expect(error?.file == "nobody/nothing")
    #expect(error?.reason.hasPrefix("no local path 'nobody/nothing'; nobody/nothing") == true, "\(String(describing: error))")
    #expect(error?.reason.contains("repository not found") == true)
  }
}

@Suite("SourceError")
struct SourceErrorTests {
  @Test("renders as file: offset: reason with untrusted text escaped, as a reading error does")
  func line() {
    let error = SourceError(.unexpectedAnswer, file: "org/m: file list\u{1B}", offset: 3, reason: "x\u{202E}")
    #expect(error.description == "org/m: file list\\x1b: offset 3: x\\u{202E}")
    #expect(
      error.description
        == CheckpointError(.malformed, file: "org/m: file list\u{1B}", offset: 3, reason: "x\u{202E}").description)
  }
}
