// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "speculators",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "speculators", targets: ["speculators"]),
    .library(name: "Inspect", targets: ["Inspect"]),
    .library(name: "Validate", targets: ["Validate"]),
    .library(name: "Convert", targets: ["Convert"]),
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
    .target(name: "Inspect", dependencies: ["CLibCrypto", "CXXHash"]),
    .target(name: "Validate", dependencies: ["Inspect", "CFloatCast"]),
    .target(name: "CFloatCast"),
    .target(name: "CWriteback"),
    .target(name: "Convert", dependencies: ["Validate", "Inspect", "CFloatCast", "CWriteback"]),
    .executableTarget(
      name: "speculators",
      dependencies: [
        "Convert", "Validate", "Inspect",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "InspectTests", dependencies: ["Inspect"]),
    .testTarget(name: "ValidateTests", dependencies: ["Validate", "Inspect"]),
    .testTarget(name: "ConvertTests", dependencies: ["Convert", "Validate", "Inspect"]),
    .testTarget(name: "EndToEndTests", dependencies: ["speculators", "Inspect"]),
  ]
)
