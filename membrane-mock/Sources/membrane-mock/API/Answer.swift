import HTTPTypes
import Hummingbird

/// A response before it is put on the wire, kept as plain bytes so a fault can
/// replace, cut, compress or stream it.
struct Answer: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]
    var headers: [(name: String, value: String)] = []

    static let jsonContentType = "application/json"

    static func json(_ status: Int, _ value: JSONValue) -> Answer {
        Answer(status: status, contentType: jsonContentType, body: value.serialized())
    }

    /// Header fields for this answer. Extra headers replace same-named ones, so a fault
    /// can override even Content-Type.
    var headerFields: HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        for (name, value) in headers {
            guard let fieldName = HTTPField.Name(name) else { continue }
            fields[fieldName] = value
        }
        return fields
    }

    /// 204 and 304 answers must not carry a body, whatever a fault put in it.
    var allowsBody: Bool { status != 204 && status != 304 }

    /// The answer as an ordinary response with a Content-Length.
    var response: Response {
        Response(
            status: .init(code: status),
            headers: headerFields,
            body: allowsBody ? ResponseBody(byteBuffer: ByteBuffer(bytes: body)) : ResponseBody()
        )
    }
}

/// The API's error bodies: `{"type", "key", "message"}`, plus `data.errorId` for
/// internal errors so clients can show something to quote to support.
enum APIError {
    static func answer(status: Int, key: String, message: String) -> Answer {
        .json(status, body(status: status, key: key, message: message))
    }

    static func body(status: Int, key: String, message: String) -> JSONValue {
        let type: JSONValue = status < 500 ? "bad_request" : "internal"
        var object: [String: JSONValue] = ["type": type, "key": .string(key), "message": .string(message)]
        if status == 500 {
            object["data"] = ["errorId": .string(newErrorId())]
        }
        return .object(object)
    }

    /// The body an error status gets when a fault names only the status.
    static func defaultBody(status: Int) -> JSONValue {
        switch status {
        case 400: body(status: 400, key: "bad_request", message: "Bad request")
        case 401: body(status: 401, key: "not_authenticated", message: "Not authenticated")
        case 403: body(status: 403, key: "access_denied", message: "Access denied")
        case 404: body(status: 404, key: "not_found", message: "Not found")
        case 429: body(status: 429, key: "rate_limit_exceeded", message: "Rate limit exceeded")
        case 500: body(status: 500, key: "internal_error", message: "Internal server error")
        case 502: body(status: 502, key: "internal_error", message: "Bad gateway")
        case 503: body(status: 503, key: "internal_error", message: "Service unavailable")
        case 504: body(status: 504, key: "internal_error", message: "Gateway timeout")
        case 400..<500: body(status: status, key: "http_\(status)", message: "Client error \(status)")
        default: body(status: status, key: "internal_error", message: "Server error \(status)")
        }
    }

    static func notFound(_ message: String) -> Answer {
        answer(status: 404, key: "not_found", message: message)
    }

    private static func newErrorId() -> String {
        let digits = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "err-" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}
