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
    ],
    // None: building the library fetches nothing. The stand-in API server the
    // tests and the demo use is a package of its own, membrane-mock/.
    dependencies: [],
    targets: [
        .systemLibrary(name: "CJansson", pkgConfig: "jansson",
                       providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        // Signing tokens (and wiping secrets): OpenSSL's libcrypto, which libcurl loads anyway.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // Include/membrane.h as a module, for the C ABI's types.
        .systemLibrary(name: "CMembrane"),
        // Release builds skip the run-time exclusivity checks (a thread-local
        // access set touched on every class property access of the hot
        // path); debug builds and the tests keep them.
        .target(name: "Membrane", dependencies: ["CJansson", "CCurl", "CCrypto"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(
            name: "MembraneC",
            dependencies: ["Membrane", "CJansson", "CMembrane"],
            exclude: ["exports.map"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(sharedLibraryLinkerFlags)]
        ),
        .testTarget(name: "MembraneTests", dependencies: ["Membrane"]),
    ]
)
