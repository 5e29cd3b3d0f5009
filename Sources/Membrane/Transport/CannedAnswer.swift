import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A listening socket on 127.0.0.1 that never needs a thread of its own:
/// the rehearsal (see `MembraneClient.rehearsal`) points its client here, and
/// each transfer's ``CannedAnswer`` accepts its own connection and writes the
/// answer into it just before libcurl sends the request.
///
/// Why not a socket pair handed to libcurl: the libcurl 7.88 of Debian 12
/// calls connect() even when told the socket is already connected.
final class LoopbackStage: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    /// Connections accepted but not yet claimed, by their client-side port:
    /// a batch opens several at once, in no promised order.
    private var waiting: [Int: Int32] = [:]

    /// nil when the process may not listen on the loopback interface.
    init?() {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                                                 | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && listen(descriptor, 64) == 0
                    && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            return nil
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(listener)
        for socket in waiting.values { close(socket) }
    }

    /// The server side of the connection whose client side is `localPort`,
    /// or -1 when it is not (yet) there. The caller owns it.
    func claim(localPort: Int) -> Int32 {
        while true {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let accepted = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listener, $0, &length)
                }
            }
            guard accepted >= 0 else { break }
            _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
            waiting[Int(UInt16(bigEndian: address.sin_port))] = accepted
        }
        return waiting.removeValue(forKey: localPort) ?? -1
    }
}

/// A complete HTTP answer played to libcurl through a ``LoopbackStage``: the
/// rehearsal runs the real transfer path, libcurl included, while nothing
/// leaves the machine and no thread is started.
final class CannedAnswer: @unchecked Sendable {
    let bytes: [UInt8]
    private let stage: LoopbackStage
    /// Server sides of this request's connections (one per attempt), closed
    /// when the request is done, so libcurl reads the answer, not an EOF first.
    private var servers: [Int32] = []

    init(_ bytes: [UInt8], on stage: LoopbackStage) {
        self.bytes = bytes
        self.stage = stage
    }

    deinit {
        for server in servers { close(server) }
    }

    /// Points `handle`'s transfers at this answer: a fresh connection each
    /// time (a kept-alive one would have nothing more to read).
    func install(on handle: UnsafeMutableRawPointer) {
        _ = mbcurl_setopt_prereq_function(handle, answerOnConnect)
        _ = mbcurl_setopt_pointer(handle, CURLOPT_PREREQDATA, Unmanaged.passUnretained(self).toOpaque())
        _ = mbcurl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1)
        _ = mbcurl_setopt_long(handle, CURLOPT_FORBID_REUSE, 1)
        // Straight to the stage, whatever proxy the environment names.
        _ = mbcurl_setopt_string(handle, CURLOPT_NOPROXY, "*")
    }

    /// Called by libcurl once connected, before the request is sent. The
    /// answer is small (a few KB): it fits in the socket's buffer at once.
    fileprivate func answer(localPort: Int) -> Bool {
        let server = stage.claim(localPort: localPort)
        guard server >= 0 else { return false }
        servers.append(server)
        let written = bytes.withUnsafeBytes { write(server, $0.baseAddress, $0.count) }
        return written == bytes.count
    }
}

private let answerOnConnect: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?,
                                             UnsafeMutablePointer<CChar>?, Int32, Int32) -> Int32 = {
    context, _, _, _, localPort in
    guard let context else { return Int32(CURL_PREREQFUNC_ABORT) }
    let canned = Unmanaged<CannedAnswer>.fromOpaque(context).takeUnretainedValue()
    return canned.answer(localPort: Int(localPort)) ? Int32(CURL_PREREQFUNC_OK) : Int32(CURL_PREREQFUNC_ABORT)
}
