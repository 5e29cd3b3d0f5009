import CCurl

/// A libcurl multi handle and the easy handles that run in it.
///
/// Every transfer runs in a lane: a blocking call's on the calling thread
/// (one lookup uses one easy handle, a batch up to its parallelism), the
/// requests started without blocking on the client's I/O thread. The multi handle keeps the
/// connections alive between calls, and its `curl_multi_poll` is where the
/// thread waits, so `curl_multi_wakeup` from another thread (cancellation)
/// interrupts it at once. A lane serves one call (or one I/O thread) at a time.
final class CurlLane: @unchecked Sendable {
    let multi: UnsafeMutableRawPointer
    private var easies: [CurlEasy] = []
    /// The run blocking calls in this lane reuse (its buffers stay warm).
    private var reusableRun: TransferRun?

    init() throws(MembraneError) {
        guard let multi = CurlGlobal.creatingHandle(curl_multi_init) else {
            throw MembraneError(code: .internal, message: "libcurl could not create a multi handle")
        }
        self.multi = multi
    }

    deinit {
        // Every easy handle was removed from the multi when its transfer ended.
        curl_multi_cleanup(multi)
    }

    /// The lane's easy handle number `index` (0-based), creating the missing
    /// ones: handles outlive the calls that use them, options and all.
    func easy(_ index: Int) throws(MembraneError) -> CurlEasy {
        while easies.count <= index {
            easies.append(try CurlEasy())
        }
        return easies[index]
    }

    /// This lane's run for a blocking call of at most `parallel` at once.
    func run(parallel: Int) -> TransferRun {
        if let run = reusableRun {
            run.setParallel(parallel)
            return run
        }
        let run = TransferRun(lane: self, parallel: parallel)
        reusableRun = run
        return run
    }

    /// At most `connections` connections at once, to all hosts together.
    func limitConnections(to connections: Int) {
        _ = mbcurl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, connections)
        _ = mbcurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections)
        // Without it libcurl keeps at most 4 idle connections per easy handle
        // still added: an async lane whose queue empties would close every
        // kept-alive connection and open them again for the next burst.
        _ = mbcurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, connections)
    }
}
