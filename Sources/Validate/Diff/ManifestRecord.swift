import Inspect

/// The part of an audit manifest that the rest of a diff does not already compare: how the
/// conversion was made.
///
/// A manifest's per-tensor dtype, shape, file and digest, and its per-file sizes and SHA-256,
/// describe the checkpoint next to it, which the diff compares directly from its bytes. What
/// remains is the record of the conversion: the tool, the options, the source and verifier, where
/// each output tensor came from, and what was dropped. Lists are keyed by name so that a tensor
/// added to one side shows as one difference (`$.provenance["fc.weight"]`), not as a shift of
/// every later index.
enum ManifestRecord {
  /// Keys under which differences only say where or with which tool version a conversion ran.
  static let volatileKeys: Set<String> = ["version", "given", "resolved_path", "output_path"]

  /// The conversion record of a manifest, from its JSON form (``AuditManifest/json()``).
  static func record(of audit: AuditManifest) -> JSONValue {
    let manifest = audit.json()
    var members: [(key: String, value: JSONValue)] = []
    for key in ["manifest_version", "tool", "options", "verifier"] {
      if let value = manifest[key] { members.append((key, value)) }
    }
    if let source = manifest["source"] {
      members.append(("source", source.setting("files", to: keyed(source["files"], value: { $0.removing("name") }))))
    }
    members.append(("provenance", keyed(manifest["tensors"], value: { $0["source"] ?? .null })))
    members.append(("dropped", keyed(manifest["dropped"], value: { $0["reason"] ?? .null })))
    return .object(members)
  }

  /// An array of objects with a `name` member as an object keyed by that name.
  private static func keyed(_ list: JSONValue?, value: (JSONValue) -> JSONValue) -> JSONValue {
    guard let elements = list?.arrayValue else { return list ?? .null }
    var members: [(key: String, value: JSONValue)] = []
    var seen = Set<String>()
    for element in elements {
      guard let name = element["name"]?.stringValue, seen.insert(name).inserted else { return .array(elements) }
      members.append((name, value(element)))
    }
    return .object(members)
  }
}
