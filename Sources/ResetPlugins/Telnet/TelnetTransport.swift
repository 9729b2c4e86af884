import Foundation
import Shared

/// RFC 854 telnet over TCP: option negotiation (ECHO and SUPPRESS-GO-AHEAD accepted, TERMINAL-TYPE
/// answered "VT100", NAWS 200x24, everything else refused) and IAC escaping, under deadlines.
public final class TelnetTransport: Transport, @unchecked Sendable {
    enum Byte {
        static let iac: UInt8 = 255, dont: UInt8 = 254, doo: UInt8 = 253, wont: UInt8 = 252, will: UInt8 = 251
        static let sb: UInt8 = 250, se: UInt8 = 240
        static let echo: UInt8 = 1, sga: UInt8 = 3, ttype: UInt8 = 24, naws: UInt8 = 31
    }

    let owner = SerialOwner(label: "custody.telnet")
    private var socket: TCPSocket?
    private var negotiator = TelnetNegotiator()

    private init() {}

    public static func connect(host: String, port: Int, timeout: Double) async throws(ResetFailure) -> TelnetTransport {
        let t = TelnetTransport()
        try await t.owner.run { () throws(ResetFailure) in t.socket = try TCPSocket(host: host, port: port, timeout: timeout, owner: t.owner) }
        return t
    }

    public func read(timeout: Double) async throws(ResetFailure) -> ReadResult {
        try await owner.run { () throws(ResetFailure) -> ReadResult in
            guard let fd = self.socket?.fd else { return .closed }
            let until = Date().addingTimeInterval(timeout)
            while true {
                // A target that keeps sending (IAC NOP) cannot hold a cancelled reset.
                if self.owner.isCancelled { throw ResetFailure(.unreachable, "the connection was shut down") }
                guard TCPSocket.wait(fd, events: Int16(POLLIN), until: until) else { return .timeout }
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = buf.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, 4096) }
                if n == 0 {
                    if self.owner.isCancelled { throw ResetFailure(.unreachable, "the connection was shut down") }
                    return .closed
                }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    throw ResetFailure(.protocolError, "telnet read failed: \(String(cString: strerror(errno)))")
                }
                let (data, replies) = self.negotiator.feed(Array(buf[0..<n]))
                if !replies.isEmpty { try self.writeAll(replies) }
                if !data.isEmpty { return .data(data) }
                if Date() >= until { return .timeout }
            }
        }
    }

    public func write(_ bytes: [UInt8]) async throws(ResetFailure) {
        var escaped: [UInt8] = []
        for b in bytes {
            escaped.append(b)
            if b == Byte.iac { escaped.append(Byte.iac) }
        }
        let out = escaped
        try await owner.run { () throws(ResetFailure) in try self.writeAll(out) }
    }

    private func writeAll(_ bytes: [UInt8]) throws(ResetFailure) {
        guard let fd = socket?.fd else { throw ResetFailure(.protocolError, "the telnet connection is closed") }
        var offset = 0
        let until = Date().addingTimeInterval(15)
        while offset < bytes.count {
            // MSG_NOSIGNAL: a target that hung up is an error here, never a SIGPIPE to the server.
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno != EAGAIN && errno != EINTR {
                throw ResetFailure(.protocolError, "telnet write failed: \(String(cString: strerror(errno)))")
            }
            guard TCPSocket.wait(fd, events: Int16(POLLOUT), until: until) else { throw ResetFailure(.promptTimeout, "telnet write timed out") }
        }
    }

    public func close() async {
        _ = try? await owner.run { () throws(ResetFailure) in self.socket?.close() }
    }

    deinit { socket?.close() }
}

/// The telnet byte-stream parser: strips commands from the data and answers negotiations.
struct TelnetNegotiator {
    typealias B = TelnetTransport.Byte
    private enum State { case data, iac, option(UInt8), sub, subIAC }
    private var state = State.data
    private var sub: [UInt8] = []
    /// A subnegotiation is kept to this many bytes (what we answer needs two); the rest is dropped.
    static let maxSubnegotiation = 1024
    var subnegotiationBytes: Int { sub.count }

    mutating func feed(_ bytes: [UInt8]) -> (data: [UInt8], replies: [UInt8]) {
        var data: [UInt8] = []
        var replies: [UInt8] = []
        for b in bytes {
            switch state {
            case .data:
                if b == B.iac { state = .iac } else { data.append(b) }
            case .iac:
                switch b {
                case B.iac: data.append(b); state = .data
                case B.doo, B.dont, B.will, B.wont: state = .option(b)
                case B.sb: sub = []; state = .sub
                default: state = .data  // NOP, GA, DM and friends
                }
            case .option(let verb):
                replies += Self.answer(verb, b)
                state = .data
            case .sub:
                if b == B.iac { state = .subIAC } else if sub.count < Self.maxSubnegotiation { sub.append(b) }
            case .subIAC:
                if b == B.se {
                    if sub.first == B.ttype && sub.dropFirst().first == 1 {  // SEND
                        replies += [B.iac, B.sb, B.ttype, 0] + Array("VT100".utf8) + [B.iac, B.se]
                    }
                    state = .data
                } else {
                    if sub.count < Self.maxSubnegotiation { sub.append(b) }
                    state = .sub
                }
            }
        }
        return (data, replies)
    }

    static func answer(_ verb: UInt8, _ option: UInt8) -> [UInt8] {
        switch (verb, option) {
        case (B.will, B.echo), (B.will, B.sga): return [B.iac, B.doo, option]
        case (B.doo, B.sga), (B.doo, B.ttype): return [B.iac, B.will, option]
        case (B.doo, B.naws): return [B.iac, B.will, B.naws, B.iac, B.sb, B.naws, 0, 200, 0, 24, B.iac, B.se]
        case (B.doo, _): return [B.iac, B.wont, option]
        case (B.will, _): return [B.iac, B.dont, option]
        default: return []  // DONT / WONT need no answer
        }
    }
}

/// The `login:` / `Password:` dialogue of a telnet server.
enum TelnetLogin {
    typealias P = PromptSession.Pattern

    static func login(_ s: PromptSession, user: String, password: Secret, prompts: [String: String]) async throws(ResetFailure) {
        _ = try await s.expect([P("login", prompts["login"] ?? Prompts.loginName)], what: "the login prompt")
        try await s.send(user)
        _ = try await s.expect([P("password", prompts["password"] ?? Prompts.password)], what: "the password prompt")
        try await s.sendSecret(password)
        let m = try await s.expect([
            P("failed", Prompts.loginFailed),
            P("expired", Prompts.expired),
            P("shell", prompts["shell"] ?? Prompts.shell),
        ], what: "the shell after login")
        if m.name == "failed" { throw ResetFailure(.authenticationFailed, "telnet login as \(user) failed") }
        s.unread(m)  // the shell prompt is the dialogue's to see
    }
}
