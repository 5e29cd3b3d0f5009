import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Membrane

/// The stand-in server the suite talks to. `make test` (Tests/with-mock.sh)
/// starts it and exports its address as MEMBRANE_MOCK_URL.
enum MockServer {
    static let token = "mock-token"

    static var url: String {
        guard let url = ProcessInfo.processInfo.environment["MEMBRANE_MOCK_URL"] else {
            fatalError("MEMBRANE_MOCK_URL is not set: run `make test-swift` (Tests/with-mock.sh swift test)")
        }
        return url
    }

    static func client(token: String = token, retries: Int? = nil) throws -> MembraneClient {
        let client = try MembraneClient(apiURL: url, token: token)
        if let retries { try client.setMaximumRetries(retries) }
        return client
    }

    /// Queues faults. Tests give each fault a `match` selector of their own,
    /// so tests running in parallel never consume each other's faults.
    static func addFault(_ fault: [String: Any]) async throws {
        var request = URLRequest(url: URL(string: "\(url)/_mock/faults")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: fault)
        let (_, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw MockError.adminRequestFailed
        }
    }

    /// The requests the server has seen, oldest first.
    static func requests() async throws -> [RecordedRequest] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(url)/_mock/requests")!)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let requests = object?["requests"] as? [[String: Any]] ?? []
        return requests.map { entry in
            RecordedRequest(path: entry["path"] as? String ?? "",
                            selector: entry["selector"] as? String,
                            query: entry["query"] as? String ?? "",
                            headers: entry["headers"] as? [String: String] ?? [:])
        }
    }

    enum MockError: Error { case adminRequestFailed }
}

extension MockServer {
    /// How many requests the server has seen for one selector (exact path).
    static func requestCount(selector: String) async throws -> Int {
        try await requests().filter { $0.path == "/integrations/\(selector)" }.count
    }
}

struct RecordedRequest {
    /// As received, still percent-encoded.
    let path: String
    /// Decoded once by the server, for `/integrations/{selector}`.
    let selector: String?
    let query: String
    let headers: [String: String]
}

/// The error a lookup throws, or nil if it succeeded.
func lookupError(_ client: MembraneClient, _ selector: String, includeSecrets: Bool = false) -> MembraneError? {
    do {
        _ = try client.integration(selector, includeSecrets: includeSecrets)
        return nil
    } catch {
        return error
    }
}
