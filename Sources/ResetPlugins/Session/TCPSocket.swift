import Foundation
import Shared

/// A non-blocking TCP socket with deadlines, used on its `SerialOwner`'s queue; cancelling the
/// owner shuts it down (or ends its connect).
final class TCPSocket: @unchecked Sendable {
    private(set) var fd: Int32 = -1
    private let owner: SerialOwner

    /// Resolves and connects, trying each address until `timeout` runs out.
    init(host: String, port: Int, timeout: Double, owner: SerialOwner) throws(ResetFailure) {
        self.owner = owner
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw ResetFailure(.unreachable, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let deadline = Date().addingTimeInterval(timeout)
        var lastError = "no address"
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let ai = node {
            node = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if s < 0 { continue }
            _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
            var on: Int32 = 1
            setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            if Foundation.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                if Self.wait(s, events: Int16(POLLOUT), until: deadline, owner: owner) {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len)
                    if err == 0 {
                        fd = s
                        owner.watch(fd: s)
                        return
                    }
                    lastError = String(cString: strerror(err))
                } else {
                    lastError = owner.isCancelled ? "cancelled" : "connection timed out"
                }
            } else {
                lastError = String(cString: strerror(errno))
            }
            Foundation.close(s)
        }
        throw ResetFailure(.unreachable, "cannot connect to \(host):\(port): \(lastError)")
    }

    /// Polls for `events` until the deadline (or `owner` is cancelled); true when ready.
    static func wait(_ fd: Int32, events: Int16, until deadline: Date, owner: SerialOwner? = nil) -> Bool {
        while true {
            if owner?.isCancelled == true { return false }
            let ms = Int32(max(0, min(owner == nil ? 1000 : 100, deadline.timeIntervalSinceNow * 1000)))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, ms)
            if rc > 0 { return true }
            if rc < 0 && errno != EINTR { return false }
            if Date() >= deadline { return false }
        }
    }

    func close() {
        if fd >= 0 {
            owner.unwatch()
            Foundation.close(fd)
        }
        fd = -1
    }

    deinit { close() }
}
