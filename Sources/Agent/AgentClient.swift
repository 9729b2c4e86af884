import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOSSL
import Shared

/// Signed requests to the server, trusting only the bundle's certificate.
struct AgentClient: Sendable {
    let http: HTTPClient
    let config: AgentConfig

    struct Refused: Error, CustomStringConvertible {
        let status: Int
        let body: String
        /// Seconds the server asked to wait (`Retry-After`, with a 503 or 429).
        var retryAfter: Double? = nil
        var description: String { "HTTP \(status): \(body.prefix(300))" }
    }

    static func make(_ config: AgentConfig) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(config.caCertificate)
        tls.minimumTLSVersion = .tlsv12
        var c = HTTPClient.Configuration(tlsConfiguration: tls)
        c.timeout = .init(connect: .seconds(10), read: .seconds(Int64(config.longPollSeconds) + 30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    /// POSTs `body`; signed by `identity` unless enrolling (then the caller signs).
    func post<B: Encodable, R: Decodable>(_ path: String, _ body: B, identity: AgentIdentity, enrolling: Bool = false,
        timeout: TimeAmount = .seconds(60)) async throws -> R
    {
        let data = try JSONEncoder().encode(body)
        let fullPath = "/agent/v1" + path
        var request = HTTPClientRequest(url: config.serverURL + fullPath)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let headers = try AgentWire.sign(method: "POST", path: fullPath, body: data, agentID: identity.agentID ?? "enrolling", key: identity.signing)
        for (k, v) in headers where !(enrolling && k == AgentWire.agentHeader) { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(data: data))
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Refused(status: Int(response.status.code), body: String(buffer: bytes),
                retryAfter: response.headers.first(name: "Retry-After").flatMap(Double.init))
        }
        return try JSONDecoder().decode(R.self, from: Data(buffer: bytes))
    }
}
