import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `membrane-mock`: a stand-in for the Membrane API's integration endpoints, with an
/// admin API to script faults. See README.md in this folder.
@main
struct MembraneMock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "membrane-mock",
        abstract: "Stand-in Membrane API server for tests and demos.",
        discussion: """
            Prints "membrane-mock listening on http://HOST:PORT" as its first line on stdout \
            once it accepts connections; logs go to stderr. Stops on SIGTERM or SIGINT.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 0

    @Option(help: "Bearer token the API endpoints accept.")
    var token = "mock-token"

    @Option(help: ArgumentHelp(
        "Workspace key; with it, JWTs naming this workspace (workspaceKey, or iss) and signed with "
            + "--workspace-secret or --public-key are accepted too.",
        valueName: "key"))
    var workspaceKey: String?

    @Option(help: ArgumentHelp("Workspace secret that HS256 and HS512 tokens are signed with.", valueName: "secret"))
    var workspaceSecret: String?

    @Option(help: ArgumentHelp("PEM public key (EC P-256 or RSA) that ES256 and RS256 tokens are signed with.",
                               valueName: "pem-file"))
    var publicKey: String?

    @Option(help: "Fixtures file: {\"integrations\": [...]}.")
    var fixtures = "examples/fixtures/integrations.json"

    @Option(help: "stderr log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard !token.isEmpty else { throw ValidationError("--token must not be empty") }
        if let workspaceKey {
            guard !workspaceKey.isEmpty else { throw ValidationError("--workspace-key must not be empty") }
            guard workspaceSecret != nil || publicKey != nil else {
                throw ValidationError("--workspace-key needs --workspace-secret, --public-key or both")
            }
            if workspaceSecret?.isEmpty == true { throw ValidationError("--workspace-secret must not be empty") }
        } else if workspaceSecret != nil || publicKey != nil {
            throw ValidationError("--workspace-secret and --public-key need --workspace-key")
        }
    }

    func run() async throws {
        let level = logLevel
        // stdout carries only the "listening" line; everything else goes to stderr.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "membrane-mock")

        let store: FixtureStore
        do {
            store = try FixtureStore(contentsOf: fixtures)
        } catch let error as FixtureStore.LoadError {
            logger.critical("\(error.description)")
            throw ExitCode.failure
        }
        for selector in store.duplicateSelectors() {
            logger.warning("selector '\(selector)' is used by more than one fixture; only the first is reachable")
        }

        var verifier: TokenVerifier?
        if let workspaceKey {
            var key: PublicKey?
            if let publicKey {
                do {
                    key = try PublicKey(pemFile: publicKey)
                } catch {
                    logger.critical("\(error.description)")
                    throw ExitCode.failure
                }
            }
            verifier = TokenVerifier(workspaceKey: workspaceKey, secret: workspaceSecret.map { Array($0.utf8) },
                                     publicKey: key)
        }
        let authentication = Authentication(token: token, verifier: verifier)

        let faults = FaultQueue()
        let requestLog = RequestLog()
        let stats = ServerStats()
        let router = MockRouter.build(store: store, authentication: authentication, faults: faults, requestLog: requestLog, stats: stats)
        let host = self.host
        let app = Application(
            router: router,
            server: .http1(stats: stats),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                Self.announce(host: host, port: channel.localAddress?.port ?? 0)
            },
            logger: logger
        )

        var serviceConfiguration = ServiceGroupConfiguration(
            services: [app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // A request stuck in a long `delayMs` must not keep the process alive after a
        // signal: give in-flight requests a moment, then cancel them.
        serviceConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        serviceConfiguration.maximumCancellationDuration = .seconds(1)
        try await ServiceGroup(configuration: serviceConfiguration).run()
    }

    /// Test harnesses wait for this exact line, so it is written unbuffered.
    static func announce(host: String, port: Int) {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let line = "membrane-mock listening on http://\(shownHost):\(port)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
