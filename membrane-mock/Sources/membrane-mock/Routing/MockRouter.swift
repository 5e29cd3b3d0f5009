import Hummingbird

/// The stand-in's one router: the admin API under `/_mock`, the two API
/// routes under `/integrations`, and the middleware around them.
///
///     every request   API error shape (unknown paths and methods: 404 "Cannot METHOD /path")
///                     request log (API requests only, before anything else)
///     /_mock/...      admin routes (no token, never faulted)
///     /integrations   faults, then authentication, then the handler
///
/// HEAD is answered like GET, headers only, as the API's framework does.
enum MockRouter {
    static func build(store: FixtureStore, authentication: Authentication, faults: FaultQueue, requestLog: RequestLog,
                      stats: ServerStats) -> Router<MockRequestContext> {
        let router = Router(context: MockRequestContext.self, options: .autoGenerateHeadEndpoints)
        // Router middleware wraps the routes added after it and the not-found answer.
        router.add(middleware: APIErrorShapeMiddleware())
        router.add(middleware: RequestLogMiddleware(log: requestLog, authentication: authentication))

        AdminRoutes.add(to: router.group("_mock"), faults: faults, requestLog: requestLog, stats: stats)

        let api = IntegrationsAPI(store: store)
        let integrations = router.group("integrations")
            .add(middleware: FaultMiddleware(faults: faults))
            .add(middleware: AuthenticationMiddleware(authentication: authentication))
        integrations.get { request, _ in api.list(request).response }
        integrations.get("{selector}") { request, _ in api.integration(request).response }
        // More than one segment: still this API's 404 (with a token), not "Cannot GET".
        integrations.get("{selector}/**") { request, _ in api.integration(request).response }
        return router
    }
}
