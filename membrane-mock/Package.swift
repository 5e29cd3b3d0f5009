// swift-tools-version:6.0
//
// membrane-mock: a stand-in for the Membrane API's integration endpoints
// (Hummingbird 2), with an admin API to script faults. libmembrane's tests
// and demo run it; so can any other project's tests (see README.md).
// Its own package, so that building the library fetches none of this.
import PackageDescription

let package = Package(
    name: "membrane-mock",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "membrane-mock", targets: ["membrane-mock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Already in the graph through Hummingbird; named because the server imports them.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Checking token signatures: OpenSSL's libcrypto, from the system (no build time).
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .executableTarget(
            name: "membrane-mock",
            dependencies: [
                "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
