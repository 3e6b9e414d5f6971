// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "speculators",
  products: [
    .executable(name: "speculators", targets: ["speculators"]),
    .library(name: "Inspect", targets: ["Inspect"]),
    .library(name: "Validate", targets: ["Validate"]),
    .library(name: "Convert", targets: ["Convert"]),
    .library(name: "Probe", targets: ["Probe"]),
    .library(name: "ModelSources", targets: ["ModelSources"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CLibCrypto",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
    ),
    .systemLibrary(
      name: "CXXHash",
      pkgConfig: "libxxhash",
      providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]
    ),
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
    ),
    .target(name: "Platform"),
    .target(name: "Inspect", dependencies: ["Platform", "CLibCrypto", "CXXHash", "CFaultGuard", "CFloatCast"]),
    .target(name: "CFaultGuard"),
    .target(name: "Probe", dependencies: ["Inspect", "Platform", "COpenBLAS"]),
    .target(name: "Validate", dependencies: ["Probe", "Inspect", "Platform", "CTensorStatistics"]),
    .target(name: "CFloatCast"),
    .target(name: "CTensorStatistics"),
    .target(name: "CWriteback"),
    .target(name: "Convert", dependencies: ["Validate", "Inspect", "Platform", "CWriteback"]),
    // Hub ids, the Hugging Face cache and URLs; the only target that uses Foundation networking.
    .target(name: "ModelSources", dependencies: ["Inspect", "Platform"]),
    .executableTarget(
      name: "speculators",
      dependencies: [
        "Convert", "Validate", "Probe", "ModelSources", "Inspect", "Platform",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "InspectTests", dependencies: ["Inspect"]),
    .testTarget(name: "ProbeTests", dependencies: ["Probe", "Inspect"]),
    .testTarget(name: "ValidateTests", dependencies: ["Validate", "Probe", "Inspect"]),
    .testTarget(name: "ConvertTests", dependencies: ["Convert", "Validate", "Inspect"]),
    // The Hub emulator (Tests/Support/hub_server.py) driven from Swift, for every test target.
    .target(
      name: "HubEmulatorSupport", dependencies: ["ModelSources", "Inspect"], path: "Tests/Support",
      exclude: ["hub_server.py"]),
    .testTarget(name: "ModelSourcesTests", dependencies: ["ModelSources", "Convert", "Inspect", "HubEmulatorSupport"]),
    .testTarget(name: "EndToEndTests", dependencies: ["speculators", "Inspect", "HubEmulatorSupport"]),
  ]
)

// Fuzz targets (libFuzzer + AddressSanitizer, see scripts/fuzz.sh and docs/hardening.md) are
// declared only when SPECULATORS_FUZZ=1 is set while the manifest is evaluated, so the normal
// `swift build` / `swift test` never see them.
if Context.environment["SPECULATORS_FUZZ"] == "1" {
  package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
  for name in ["FuzzSafetensorsHeader", "FuzzZipArchive", "FuzzPickle", "FuzzShardIndex", "FuzzConfigJSON"] {
    package.targets.append(
      .executableTarget(name: name, dependencies: ["Inspect", "FuzzSupport"], path: "Fuzz/\(name)"))
    package.products.append(.executable(name: name, targets: [name]))
  }
}
