import NIOCore
import NIOPosix

/// Sends syslog messages: one datagram over UDP (RFC 5426), or over TCP one connection per batch
/// with octet counting for RFC 5424 (RFC 6587 §3.4.1) and a newline after RFC 3164 messages.
public struct SyslogClient: Sendable {
    public let settings: SyslogSettings

    public init(_ settings: SyslogSettings) { self.settings = settings }

    public func send(_ messages: [String]) async throws(NotifyError) {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { settings.transport == .udp ? try await sendUDP(messages) : try await sendTCP(messages) }
                group.addTask {
                    try await Task.sleep(for: settings.timeout)
                    throw NotifyError(.timeout, "syslog \(settings.host):\(settings.port) did not take the message within \(settings.timeout)")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let e as NotifyError {
            throw e
        } catch {
            throw NotifyError(.connect, "syslog \(settings.transport.rawValue) \(settings.host):\(settings.port): \(error)")
        }
    }

    func sendUDP(_ messages: [String]) async throws {
        let remote = try SocketAddress.makeAddressResolvingHost(settings.host, port: settings.port)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: remote) { ch in
                ch.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch) }
            }
        try await channel.executeThenClose { _, outbound in
            for m in messages { try await outbound.write(ByteBuffer(string: String(m.utf8.prefix(8192)) ?? m)) }
        }
    }

    func sendTCP(_ messages: [String]) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: settings.host, port: settings.port) { ch in
                ch.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch) }
            }
        try await channel.executeThenClose { _, outbound in
            for m in messages {
                let framed = settings.format == .rfc5424 ? "\(m.utf8.count) \(m)" : m + "\n"
                try await outbound.write(ByteBuffer(string: framed))
            }
        }
    }
}
