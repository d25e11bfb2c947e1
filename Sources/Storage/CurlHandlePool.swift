import CCurl
import Dispatch
import Synchronization

/// Reused libcurl easy handles, so consecutive requests of a worker keep their HTTP connection
/// alive (libcurl keeps a handle's connections across `curl_easy_reset`), and the process-wide
/// cap on requests in flight (`StorageSettings.parallelism`), so nested parallelism (files x
/// parts) never opens more streams than configured.
enum CurlHandlePool {
    /// A libcurl easy handle. Safe to send: a handle is either in the pool (touched only under
    /// `idle`'s lock) or owned by the one thread that took it out, never both.
    struct Handle: @unchecked Sendable {
        let raw: UnsafeMutableRawPointer
    }

    private static let idle = Mutex<[Handle]>([])
    private static let slots = Mutex<[Int: DispatchSemaphore]>([:])
    /// Idle handles kept at most (each may hold one open connection).
    static let keep = 32

    /// A reset handle (a new one when none is idle), or nil when libcurl cannot make one.
    static func take() -> Handle? {
        if let h = idle.withLock({ $0.popLast() }) {
            curl_easy_reset(h.raw)
            return h
        }
        return curl_easy_init().map { Handle(raw: $0) }
    }

    /// Returns a handle for reuse; `broken` (a transport failure) closes it and its connection.
    static func give(_ h: Handle, broken: Bool) {
        let kept = !broken && idle.withLock { list -> Bool in
            guard list.count < keep else { return false }
            list.append(h)
            return true
        }
        if !kept { curl_easy_cleanup(h.raw) }
    }

    /// Runs `body` holding one of `width` process-wide request slots.
    static func withSlot<T>(width: Int, _ body: () -> T) -> T {
        let sem = slots.withLock { map -> DispatchSemaphore in
            if let s = map[width] { return s }
            let s = DispatchSemaphore(value: max(1, width))
            map[width] = s
            return s
        }
        sem.wait()
        defer { sem.signal() }
        return body()
    }
}
