import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import Testing
import TestSupport

@testable import Server

/// Requests as an agent makes them (signed, sealed), enrollment tokens and enrollment: for tests
/// that play an agent against the server.
protocol AgentWireFixture {}

/// The fixture on its own.
struct AgentClient: AgentWireFixture {}

extension AgentWireFixture {
    func send(_ api: API, _ path: String, _ body: some Encodable, as agent: FakeAgent, at time: Date, tamper: ((inout HTTPFields, inout Data) -> Void)? = nil)
        async throws -> Reply
    {
        var data = try JSONEncoder().encode(body)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (k, v) in try AgentWire.sign(method: "POST", path: "/agent/v1" + path, body: data, agentID: agent.id, key: agent.signing, now: time) {
            headers[HTTPField.Name(k)!] = v
        }
        tamper?(&headers, &data)
        let resp = try await api.client.execute(uri: "/agent/v1" + path, method: .post, headers: headers, body: ByteBuffer(bytes: data))
        return Reply(status: resp.status, data: Data(resp.body.readableBytesView), headers: resp.headers)
    }

    /// A bundle's token, read out of the (uncompressed) archive.
    func token(_ api: API, _ admin: String, _ h: Harness, resourceId: String? = nil) async throws -> String {
        try FileManager.default.createDirectory(atPath: h.custody.config.tlsDir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: h.custody.config.tlsDir + "/server.crt", contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
        var body: [String: Any] = ["os": "linux", "serverURL": "https://vault.example.test:7272"]
        body["resourceId"] = resourceId
        let r = try await api.call(.post, "/agent-packages", token: admin, json: body)
        #expect(r.status == .ok, "\(r.text)")
        let dir = NSTemporaryDirectory() + "bundle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.data.write(to: URL(fileURLWithPath: dir + "/b.tar.gz"))
        #expect(try runCommand("/bin/tar", ["xzf", dir + "/b.tar.gz", "-C", dir]).code == 0, "a valid tar.gz")
        let text = try String(contentsOfFile: dir + "/custody-agent/Agent.conf", encoding: .utf8)
        #expect(text.contains("ServerURL=https://vault.example.test:7272"))
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("EnrollmentToken=") })
        return String(line.dropFirst("EnrollmentToken=".count))
    }

    func enroll(_ api: API, _ token: String, _ agent: inout FakeAgent, at: Date, host: String = "web01.example.test") async throws -> Reply {
        let r = try await send(api, "/enroll", EnrollRequest(token: token, hostname: host, os: "linux", arch: "x86_64", version: "t",
            signingKey: agent.signing.publicKey.rawRepresentation, sealingKey: agent.sealing.publicKey.rawRepresentation), as: agent, at: at)
        if let id = r.object["agentId"] as? String { agent.id = id }
        return r
    }
}
