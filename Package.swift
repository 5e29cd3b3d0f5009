// swift-tools-version:6.0
//
// libmembrane: a C library (with a Swift core) for looking up Membrane
// integrations. Build it with `make`; the Makefile passes the flags that turn
// the `membrane` product into a self-contained libmembrane.so.
import PackageDescription

// The C ABI is linked with the Swift runtime inside (hosts need no Swift), a
// SONAME, and a version script that exports membrane_* and nothing else.
// -z nodelete: dlclose never unmaps it. The Swift runtime inside registers
// thread-exit destructors and keeps metadata caches that other threads may
// still reach, so a host that unloads plugins (SQLite closing a connection
// with a loaded extension, Python's dlclose) would otherwise crash later.
let sharedLibraryLinkerFlags: [String] = [
    "-static-stdlib", "-use-ld=lld", "-Xlinker", "--gc-sections", "-Xlinker", "-z", "-Xlinker", "nodelete",
    "-Xlinker", "-soname", "-Xlinker", "libmembrane.so.0",
    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/MembraneC/exports.map",
]

let package = Package(
    name: "libmembrane",
    products: [
        // libmembrane.so: the C ABI declared in Include/membrane.h.
        .library(name: "membrane", type: .dynamic, targets: ["MembraneC"]),
        // The Swift API, for Swift programs.
        .library(name: "Membrane", targets: ["Membrane"]),
        // The stand-in API server used by the tests and the demo.
        .executable(name: "membrane-mock", targets: ["membrane-mock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Already in the graph through Hummingbird; named because the stand-in server imports them.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CJansson", pkgConfig: "jansson",
                       providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        // Include/membrane.h as a module, for the C ABI's types.
        .systemLibrary(name: "CMembrane"),
        .target(name: "Membrane", dependencies: ["CJansson", "CCurl"]),
        .target(
            name: "MembraneC",
            dependencies: ["Membrane", "CJansson", "CMembrane"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags(sharedLibraryLinkerFlags)]
        ),
        .executableTarget(
            name: "membrane-mock",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "MembraneTests", dependencies: ["Membrane"]),
    ]
)
