import CLibSSH2
import Foundation
import Shared

/// An SSH session on libssh2, non-blocking, every step under a deadline, owned by one serial
/// queue. Opens as an interactive shell on a PTY (or runs one command) and is a `Transport`.
public final class SSHConnection: Transport, @unchecked Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var connectTimeout: Double = 10
        public var stepTimeout: Double = 15
        /// "SHA256:..." to pin; nil learns it.
        public var pinnedHostKey: String?
        public var legacyAlgorithms = false
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// The job's target, timeouts, pinned key and algorithm choice.
        public init(job: ResetJob) {
            let s = job.settings
            self.init(host: job.host, port: s.port)
            connectTimeout = s.connectTimeout
            stepTimeout = s.promptTimeout
            pinnedHostKey = s.hostKey
            legacyAlgorithms = s.legacyAlgorithms
            exposure = job.exposure
        }

        /// Told the host key seen on first contact (nothing pinned yet), so the server pins it.
        public var exposure: ResetExposure? = nil
    }

    public enum Credential: Sendable {
        case password(Secret)
        /// Keyboard-interactive answers: the first pattern (case-insensitive) found in a prompt picks its answer.
        case keyboardInteractive([(pattern: String, answer: Secret)])
        case publicKey(privateKey: Secret, passphrase: Secret?)
        /// A password login that, if the server says the password has expired during keyboard-interactive
        /// authentication, answers its change prompts with `new`.
        case passwordOrExpiredChange(current: Secret, new: Secret)
    }

    static let initialized: Bool = { libssh2_init(0) == 0 }()

    let owner = SerialOwner(label: "custody.ssh")
    private var socket: TCPSocket?
    private var session: OpaquePointer?
    private var channel: OpaquePointer?
    private let options: Options
    public private(set) var hostKey = ""

    private init(options: Options) { self.options = options }

    /// Connects, negotiates and checks the host key.
    public static func connect(_ options: Options) async throws(ResetFailure) -> SSHConnection {
        guard initialized else { throw ResetFailure(.protocolError, "libssh2 failed to initialise") }
        let c = SSHConnection(options: options)
        do {
            try await c.owner.run { () throws(ResetFailure) in try c.handshake() }
        } catch {
            await c.close()
            throw error
        }
        return c
    }

    private var deadline: Date { Date().addingTimeInterval(options.stepTimeout) }

    private func handshake() throws(ResetFailure) {
        let sock = try TCPSocket(host: options.host, port: options.port, timeout: options.connectTimeout, owner: owner)
        socket = sock
        guard let s = custody_ssh2_session_new(nil) else { throw ResetFailure(.protocolError, "cannot create an SSH session") }
        session = s
        libssh2_session_set_blocking(s, 0)
        let kex = options.legacyAlgorithms ? Self.modernKex + "," + Self.legacyKex : Self.modernKex
        let ciphers = options.legacyAlgorithms ? Self.modernCiphers + "," + Self.legacyCiphers : Self.modernCiphers
        libssh2_session_method_pref(s, custody_ssh2_method_kex(), kex)
        libssh2_session_method_pref(s, custody_ssh2_method_crypt_cs(), ciphers)
        libssh2_session_method_pref(s, custody_ssh2_method_crypt_sc(), ciphers)
        let rc = try loop(deadline, "the SSH handshake") { libssh2_session_handshake(s, sock.fd) }
        guard rc == 0 else {
            throw ResetFailure(.protocolError, "SSH handshake with \(options.host):\(options.port) failed: \(lastError())")
        }
        guard let hash = libssh2_hostkey_hash(s, custody_ssh2_hash_sha256()) else {
            throw ResetFailure(.protocolError, "the server sent no host key")
        }
        let digest = Data(bytes: hash, count: 32).base64EncodedString().replacingOccurrences(of: "=", with: "")
        hostKey = "SHA256:" + digest
        if options.pinnedHostKey == nil { options.exposure?.learned(hostKey: hostKey) }
        if let pinned = options.pinnedHostKey, pinned != hostKey {
            throw ResetFailure(.hostKeyMismatch, "host key of \(options.host) is \(hostKey), pinned \(pinned)")
        }
    }

    static let modernKex = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
        + "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
    static let legacyKex = "diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1"
    static let modernCiphers = "aes256-ctr,aes192-ctr,aes128-ctr"
    static let legacyCiphers = "aes256-cbc,aes192-cbc,aes128-cbc,3des-cbc"

    /// Runs a libssh2 call until it stops saying EAGAIN, waiting on the socket in between.
    func loop(_ deadline: Date, _ what: String, _ call: () -> Int32) throws(ResetFailure) -> Int32 {
        while true {
            let rc = call()
            if rc != custody_ssh2_eagain() { return rc }
            try waitSocket(deadline, what)
        }
    }

    func waitSocket(_ deadline: Date, _ what: String) throws(ResetFailure) {
        guard let s = session, let fd = socket?.fd else { throw ResetFailure(.protocolError, "the SSH session is closed") }
        let dirs = libssh2_session_block_directions(s)
        var events: Int16 = 0
        if dirs & custody_ssh2_inbound() != 0 { events |= Int16(POLLIN) }
        if dirs & custody_ssh2_outbound() != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        if Date() >= deadline || !TCPSocket.wait(fd, events: events, until: deadline) {
            if Date() >= deadline { throw ResetFailure(.promptTimeout, "timed out during \(what)") }
        }
    }

    func lastError() -> String {
        guard let s = session else { return "no session" }
        var msg: UnsafeMutablePointer<CChar>?
        var len: Int32 = 0
        let code = libssh2_session_last_error(s, &msg, &len, 0)
        return msg.map { "\(String(cString: $0)) (\(code))" } ?? "error \(code)"
    }

    var rawSession: OpaquePointer? { session }

    // MARK: Transport

    public func read(timeout: Double) async throws(ResetFailure) -> ReadResult {
        try await owner.run { () throws(ResetFailure) -> ReadResult in try self.readSync(timeout: timeout) }
    }

    private func readSync(timeout: Double) throws(ResetFailure) -> ReadResult {
        guard let ch = channel else { return .closed }
        let until = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            if owner.isCancelled { throw ResetFailure(.unreachable, "the connection was shut down") }
            var out: [UInt8] = []
            for stream: Int32 in [0, 1] {
                let n = buf.withUnsafeMutableBytes { libssh2_channel_read_ex(ch, stream, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 8192) }
                if n > 0 { out += buf[0..<n] }
                if n < 0 && Int32(n) != custody_ssh2_eagain() {
                    throw ResetFailure(.protocolError, "reading from the SSH channel failed: \(lastError())")
                }
            }
            if !out.isEmpty { return .data(out) }
            if libssh2_channel_eof(ch) != 0 { return .closed }
            if Date() >= until { return .timeout }
            guard let fd = socket?.fd else { return .closed }
            _ = TCPSocket.wait(fd, events: Int16(POLLIN), until: min(until, Date().addingTimeInterval(0.2)))
        }
    }

    public func write(_ bytes: [UInt8]) async throws(ResetFailure) {
        try await owner.run { () throws(ResetFailure) in
            guard let ch = self.channel else { throw ResetFailure(.protocolError, "the SSH channel is closed") }
            var offset = 0
            let until = self.deadline
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes {
                    libssh2_channel_write_ex(ch, 0, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
                }
                if n > 0 { offset += n; continue }
                if Int32(n) != custody_ssh2_eagain() {
                    throw ResetFailure(.protocolError, "writing to the SSH channel failed: \(self.lastError())")
                }
                try self.waitSocket(until, "a write")
            }
        }
    }

    public func close() async {
        _ = try? await owner.run { () throws(ResetFailure) in self.closeSync() }
    }

    private func closeSync() {
        if let ch = channel {
            _ = libssh2_channel_close(ch)
            libssh2_channel_free(ch)
            channel = nil
        }
        if let s = session {
            libssh2_session_set_blocking(s, 0)
            _ = libssh2_session_disconnect_ex(s, 11, "bye", "")
            libssh2_session_free(s)
            session = nil
        }
        socket?.close()
        socket = nil
    }

    deinit { closeSync() }

    // MARK: Channels

    /// Opens a shell on a PTY (for dialogues such as passwd, su and sudo).
    public func openShell(columns: Int32 = 200) async throws(ResetFailure) {
        try await owner.run { () throws(ResetFailure) in
            let ch = try self.openChannel()
            let until = self.deadline
            var rc = try self.loop(until, "the PTY request") { libssh2_channel_request_pty_ex(ch, "vt100", 5, nil, 0, columns, 24, 0, 0) }
            guard rc == 0 else { throw ResetFailure(.protocolError, "the PTY request was refused: \(self.lastError())") }
            rc = try self.loop(until, "starting the shell") { libssh2_channel_process_startup(ch, "shell", 5, nil, 0) }
            guard rc == 0 else { throw ResetFailure(.protocolError, "the shell was refused: \(self.lastError())") }
        }
    }

    /// Starts one command; read its output through `read`.
    public func exec(_ command: String) async throws(ResetFailure) {
        try await owner.run { () throws(ResetFailure) in
            let ch = try self.openChannel()
            let rc = try self.loop(self.deadline, "starting a command") {
                libssh2_channel_process_startup(ch, "exec", 4, command, UInt32(command.utf8.count))
            }
            guard rc == 0 else { throw ResetFailure(.protocolError, "the command was refused: \(self.lastError())") }
        }
    }

    private func openChannel() throws(ResetFailure) -> OpaquePointer {
        guard let s = session else { throw ResetFailure(.protocolError, "the SSH session is closed") }
        let until = deadline
        while true {
            if let ch = custody_ssh2_channel_session(s) {
                channel = ch
                return ch
            }
            guard libssh2_session_last_errno(s) == custody_ssh2_eagain() else {
                throw ResetFailure(.protocolError, "cannot open an SSH channel: \(lastError())")
            }
            try waitSocket(until, "opening a channel")
        }
    }
}
