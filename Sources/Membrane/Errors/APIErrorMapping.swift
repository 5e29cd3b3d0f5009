import CJansson

/// Turns an HTTP answer that is not a success into a ``MembraneError``.
///
/// The status decides the code (the API documents keys per status, and a proxy
/// answering for the API sends no key at all); the API's body, when it is one,
/// supplies type, key, message and `data.errorId`.
enum APIErrorMapping {
    static func code(forStatus status: Int) -> MembraneError.Code {
        switch status {
        case 401: .notAuthenticated
        case 403: .accessDenied
        case 404: .notFound
        case 429: .rateLimited
        case 400...499: .badRequest
        case 500...599: .server
        default: .protocolError // 1xx and 3xx (redirects are not followed), or nonsense
        }
    }

    static func error(for response: HTTPResponse) -> MembraneError {
        let status = response.status
        var error = MembraneError(code: code(forStatus: status), httpStatus: status, message: "")
        let body = response.body.withUnsafeBytes { JSONValue.parse($0) }
        if case .success(let json) = body, json.pointer.pointee.type == JSON_OBJECT {
            let object = JSONObjectView(owner: json, pointer: json.pointer)
            error.type = object.string("type") ?? ""
            error.key = object.string("key") ?? ""
            error.errorId = object.object("data").flatMap { data in
                data.string("errorId") ?? data.int("errorId").map(String.init)
            } ?? ""
            if let message = object.string("message"), !message.isEmpty {
                let detail = error.key.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(error.key)"
                error.message = "\(message) (\(detail))"
                return error
            }
        }
        error.message = describe(response)
        return error
    }

    /// A message for an answer that carries no API error body.
    private static func describe(_ response: HTTPResponse) -> String {
        let status = response.status
        if (300...399).contains(status) {
            let target = response.location.map { " to \($0)" } ?? ""
            return "the API answered with a redirect (HTTP \(status))\(target); redirects are not followed"
        }
        let summary = "HTTP \(status) (\(code(forStatus: status).summary))"
        if response.body.isEmpty {
            return "\(summary) with an empty body"
        }
        let type = response.contentType.map { ", \($0)" } ?? ""
        return "\(summary) with a body that is not an API error (\(response.body.count) bytes\(type))"
    }
}
