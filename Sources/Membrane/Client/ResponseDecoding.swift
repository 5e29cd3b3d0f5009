/// From an HTTP answer to a typed model or the error it means: the one path
/// every response takes, and the one the fuzz target drives.
enum ResponseDecoding {
    /// The model `build` makes of a successful answer's body, or the error
    /// the answer means. A body the model rejects carries the status it came with.
    static func decode<Model>(_ response: HTTPResponse,
                              as build: (JSONValue) throws(MembraneError) -> Model) throws(MembraneError) -> Model {
        let json = try successBody(of: response)
        do {
            return try build(json)
        } catch var error {
            error.httpStatus = response.status
            throw error
        }
    }

    /// The parsed body of a successful answer, or the error the answer means.
    static func successBody(of response: HTTPResponse) throws(MembraneError) -> JSONValue {
        guard (200...299).contains(response.status) else {
            throw APIErrorMapping.error(for: response)
        }
        let parsed = response.body.withUnsafeBytes { JSONValue.parse($0) }
        switch parsed {
        case .success(let json):
            return json
        case .failure(let problem):
            let message = response.body.isEmpty
                ? "the response body is empty (HTTP \(response.status))"
                : "the response is not valid JSON (HTTP \(response.status)): \(problem.text) at byte \(problem.position)"
            throw MembraneError(code: .protocolError, httpStatus: response.status, message: message)
        }
    }
}
