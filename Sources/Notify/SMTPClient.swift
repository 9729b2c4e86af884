import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Shared

/// Sends one message per call over SMTP (RFC 5321), with STARTTLS (RFC 3207) or implicit TLS,
/// and AUTH PLAIN or LOGIN (RFC 4954) only over TLS. The whole exchange has one deadline.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings

    public init(_ settings: SMTPSettings) { self.settings = settings }

    public func send(_ message: MailMessage) async throws(NotifyError) {
        guard !message.to.isEmpty else { throw NotifyError(.badInput, "the message has no recipient") }
        // An address goes on a command line: nothing in it may end the line or the angle brackets.
        for address in message.to + [message.from]
        where address.isEmpty || address.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || "<>".unicodeScalars.contains($0) }) {
            throw NotifyError(.badInput, "'\(address.prefix(80).unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : String($0) }.joined())' is not a mail address")
        }
        if settings.username != nil && settings.security == .none {
            throw NotifyError(.badInput, "authentication needs starttls or tls; the password is never sent in clear")
        }
        let tls = try makeTLS()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await converse(message, tls) }
                group.addTask {
                    try await Task.sleep(for: settings.timeout)
                    throw NotifyError(.timeout, "no answer from \(settings.host):\(settings.port) within \(settings.timeout)")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let e as NotifyError {
            throw e
        } catch let e as NIOSSLError {
            throw NotifyError(.tls, "TLS with \(settings.host) failed: \(e)")
        } catch let e as BoringSSLError {
            throw NotifyError(.tls, "TLS with \(settings.host) failed: \(e)")
        } catch {
            throw NotifyError(.connect, "\(settings.host):\(settings.port): \(error)")
        }
    }

    func makeTLS() throws(NotifyError) -> NIOSSLContext? {
        guard settings.security != .none else { return nil }
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = .tlsv12
        if let ca = settings.caFile { c.trustRoots = .file(ca) }
        do { return try NIOSSLContext(configuration: c) } catch {
            throw NotifyError(.tls, "cannot set up TLS: \(error)")
        }
    }

    func tlsHandler(_ context: NIOSSLContext) throws -> NIOSSLClientHandler {
        let isIP = (try? SocketAddress(ipAddress: settings.host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isIP ? nil : settings.host)
    }

    func converse(_ message: MailMessage, _ tls: NIOSSLContext?) async throws {
        let implicit = settings.security == .tls ? tls : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: settings.host, port: settings.port) { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let implicit { try ch.pipeline.syncOperations.addHandler(try tlsHandler(implicit)) }
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(limit: 4096)))
                    return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: ch)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var s = SMTPConversation(lines: inbound.makeAsyncIterator(), out: outbound)
            var features = try await tlsPhase(implicit != nil) {
                _ = try await s.reply(expect: [220], after: "connect")
                return try await s.command("EHLO \(settings.heloName)", expect: [250])
            }
            if settings.security == .starttls {
                guard features.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                    throw NotifyError(.tls, "\(settings.host) does not offer STARTTLS")
                }
                _ = try await s.command("STARTTLS", expect: [220])
                features = try await tlsPhase(true) {
                    try await channel.channel.pipeline.addHandler(try tlsHandler(tls!), position: .first).get()
                    return try await s.command("EHLO \(settings.heloName)", expect: [250])
                }
            }
            if let user = settings.username { try await s.authenticate(user, settings.password ?? Secret(""), features) }
            _ = try await s.command("MAIL FROM:<\(message.from)>", expect: [250])
            for rcpt in message.to { _ = try await s.command("RCPT TO:<\(rcpt)>", expect: [250, 251]) }
            _ = try await s.command("DATA", expect: [354])
            let stuffed = message.rendered().split(separator: "\r\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
            _ = try await s.send(stuffed + ".\r\n", expect: [250], shown: "the message")
            _ = try? await s.command("QUIT", expect: [221])
        }
    }

    /// While TLS is being set up, a failure (a refused certificate closes the connection, and
    /// the next read or write fails) is a TLS error.
    func tlsPhase<T>(_ active: Bool, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as NotifyError where !active || e.code != .protocolError {
            throw e
        } catch {
            guard active else { throw error }
            throw NotifyError(.tls, "TLS with \(settings.host) failed: \(error)")
        }
    }
}
