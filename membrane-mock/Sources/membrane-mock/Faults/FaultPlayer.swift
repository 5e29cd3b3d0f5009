import Hummingbird

/// Turns a fault and the answer the API would have given into what actually goes on
/// the wire. Each action's wire behaviour is documented in README.md.
struct FaultPlayer: Sendable {
    let fault: Fault
    let closeConnection: @Sendable () async -> Void
    let resetConnection: @Sendable () async -> Void

    func response(replacing normal: Answer) async throws -> Response {
        if fault.delayMs > 0 {
            try await Task.sleep(for: .milliseconds(fault.delayMs))
        }
        var answer = scriptedAnswer(otherwise: normal)

        switch fault.action {
        case nil:
            return withFaultHeaders(answer).response

        case .drop:
            await closeConnection()
            throw ConnectionDropped()

        case .resetBeforeHeaders:
            await resetConnection()
            throw ConnectionDropped()

        case .resetMidBody:
            return resetMidBodyResponse(withFaultHeaders(answer))

        case .truncate:
            answer.body = Array(answer.body.prefix(answer.body.count / 2))
            return withFaultHeaders(answer).response

        case .gzip:
            answer.body = Gzip.compress(answer.body)
            answer.headers.append(("Content-Encoding", "gzip"))
            answer.headers.append(("Vary", "Accept-Encoding"))
            return withFaultHeaders(answer).response

        case .html:
            let status = fault.status ?? 502
            answer = Answer(
                status: status,
                contentType: fault.contentType ?? "text/html",
                body: Array((fault.body ?? Self.htmlErrorPage(status: status)).utf8)
            )
            return withFaultHeaders(answer).response

        case .slowBody:
            return slowBodyResponse(withFaultHeaders(answer))

        case .oversized, .oversizedChunked:
            return oversizedResponse(chunked: fault.action == .oversizedChunked)

        case .shortContentLength:
            return shortContentLengthResponse(withFaultHeaders(answer))
        }
    }

    /// A fault's own status and body replace the normal answer; a body without a status
    /// is sent as 200, and an error status without a body gets the API's error shape.
    private func scriptedAnswer(otherwise normal: Answer) -> Answer {
        guard fault.status != nil || fault.json != nil || fault.body != nil else {
            var answer = normal
            if let contentType = fault.contentType { answer.contentType = contentType }
            return answer
        }
        let status = fault.status ?? 200
        let contentType = fault.contentType ?? Answer.jsonContentType
        if let json = fault.json {
            return Answer(status: status, contentType: contentType, body: json.serialized())
        }
        if let body = fault.body {
            return Answer(status: status, contentType: contentType, body: Array(body.utf8))
        }
        if status >= 400 {
            return Answer(status: status, contentType: contentType, body: APIError.defaultBody(status: status).serialized())
        }
        return Answer(status: status, contentType: contentType, body: [])
    }

    private func withFaultHeaders(_ answer: Answer) -> Answer {
        var answer = answer
        answer.headers.append(contentsOf: fault.headers)
        return answer
    }

    /// Headers at once, then `chunkSize`-byte pieces with chunked encoding, each one
    /// preceded by a `chunkDelayMs` pause (so even a one-chunk body arrives late).
    private func slowBodyResponse(_ answer: Answer) -> Response {
        let chunks = stride(from: 0, to: answer.body.count, by: fault.chunkSize).map {
            ByteBuffer(bytes: answer.body[$0..<min($0 + fault.chunkSize, answer.body.count)])
        }
        let delay = Duration.milliseconds(fault.chunkDelayMs)
        var headers = answer.headerFields
        headers[.contentLength] = nil
        return Response(
            status: .init(code: answer.status),
            headers: headers,
            body: ResponseBody(contentLength: nil) { writer in
                for chunk in chunks {
                    try await Task.sleep(for: delay)
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            }
        )
    }

    /// A valid JSON object of at least `sizeBytes` bytes, generated while it is sent so a
    /// 32 MiB answer costs no memory: `{"name":"big","padding":"xxx…"}`.
    private func oversizedResponse(chunked: Bool) -> Response {
        let prefix = Array(#"{"name":"big","padding":""#.utf8)
        let suffix = Array(#""}"#.utf8)
        let paddingCount = max(0, fault.sizeBytes - prefix.count - suffix.count)
        let total = prefix.count + paddingCount + suffix.count
        let block = ByteBuffer(repeating: UInt8(ascii: "x"), count: min(paddingCount, 64 * 1024))

        let answer = withFaultHeaders(
            Answer(status: fault.status ?? 200, contentType: fault.contentType ?? Answer.jsonContentType, body: [])
        )
        var headers = answer.headerFields
        headers[.contentLength] = nil
        return Response(
            status: .init(code: answer.status),
            headers: headers,
            body: ResponseBody(contentLength: chunked ? nil : total) { writer in
                try await writer.write(ByteBuffer(bytes: prefix))
                var remaining = paddingCount
                while remaining > 0 {
                    let count = min(remaining, block.readableBytes)
                    try await writer.write(count == block.readableBytes ? block : ByteBuffer(repeating: UInt8(ascii: "x"), count: count))
                    remaining -= count
                }
                try await writer.write(ByteBuffer(bytes: suffix))
                try await writer.finish(nil)
            }
        )
    }

    /// Sends the whole body but declares 1024 bytes more in Content-Length, then hangs
    /// up, so the client sees the connection close mid-body.
    private func shortContentLengthResponse(_ answer: Answer) -> Response {
        let body = ByteBuffer(bytes: answer.body)
        var headers = answer.headerFields
        headers[.contentLength] = nil
        let closeConnection = self.closeConnection
        return Response(
            status: .init(code: answer.status),
            headers: headers,
            body: ResponseBody(contentLength: answer.body.count + 1024) { writer in
                try await writer.write(body)
                await closeConnection()
                throw ConnectionDropped()
            }
        )
    }

    /// Declares the whole body in Content-Length, sends its first half (rounded down),
    /// then aborts the connection with an RST. 204/304 answers: headers only, then RST.
    private func resetMidBodyResponse(_ answer: Answer) -> Response {
        let body = answer.allowsBody ? answer.body : []
        let firstHalf = ByteBuffer(bytes: body.prefix(body.count / 2))
        var headers = answer.headerFields
        headers[.contentLength] = nil
        let resetConnection = self.resetConnection
        return Response(
            status: .init(code: answer.status),
            headers: headers,
            body: ResponseBody(contentLength: answer.allowsBody ? body.count : nil) { writer in
                if firstHalf.readableBytes > 0 {
                    try await writer.write(firstHalf)
                }
                await resetConnection()
                throw ConnectionDropped()
            }
        )
    }

    /// What a proxy in front of the API typically sends when the API is down.
    static func htmlErrorPage(status: Int) -> String {
        let reasons = [
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
        ]
        let title = "\(status) \(reasons[status] ?? "Error")"
        return """
            <html>
            <head><title>\(title)</title></head>
            <body>
            <center><h1>\(title)</h1></center>
            <hr><center>nginx</center>
            </body>
            </html>

            """
    }
}
