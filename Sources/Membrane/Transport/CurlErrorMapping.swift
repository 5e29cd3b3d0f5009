import CCurl

/// Turns a failed libcurl transfer into a ``MembraneError``.
enum CurlErrorMapping {
    static func code(for result: CURLcode) -> MembraneError.Code {
        switch result {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_USE_SSL_FAILED,
             CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CLIENTCERT:
            return .tls
        case CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION:
            return .internal
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidArgument
        case CURLE_BAD_CONTENT_ENCODING:
            return .protocolError
        default:
            // Resolving, connecting, sending and receiving: the network failed.
            return .network
        }
    }

    /// Failures of the connection itself, as opposed to TLS, DNS or timeouts:
    /// refused, reset, closed before an answer.
    static func isConnectionFailure(_ result: CURLcode) -> Bool {
        switch result {
        case CURLE_COULDNT_CONNECT, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            return true
        default:
            return false
        }
    }

    static func error(for result: CURLcode, detail: String) -> MembraneError {
        // libcurl's detail ("Failed to connect to host port 443 after 3 ms: ...")
        // says more than its summary of the code; fall back on the summary.
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
        return MembraneError(code: code(for: result), message: text)
    }
}
