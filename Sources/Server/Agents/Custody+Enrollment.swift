import Crypto
import Foundation
import GRDB
import Shared

/// Enrollment tokens (single use, expiring, stored as digests) and the bundle that carries one.
extension Custody {
    struct Bundle: Sendable {
        var archive: Data
        var token: String
        var expiresAt: Date
        var includesBinary: Bool
    }

    /// A tar.gz with `Agent.conf`, the server's certificate, the install script and, when found
    /// beside this server, the agent binary.
    func agentBundle(os: String, resourceId: String?, serverURL: String, includeBinary: Bool = true, by user: String, _ db: Database)
        throws -> Bundle
    {
        let token = Tokens.generate()
        let expires = now().addingTimeInterval(config.enrollmentTokenDays * 86400)
        try db.execute(sql: """
            INSERT INTO enrollmentTokens(digest, os, resourceId, createdBy, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [Tokens.hash(token), os, resourceId, user, now().seconds, expires.seconds])
        let conf = AgentPackageTemplates.agentConf.replacingOccurrences(of: "{{serverURL}}", with: serverURL)
            .replacingOccurrences(of: "{{token}}", with: token).replacingOccurrences(of: "{{expires}}", with: Self.stamp(expires))
        var tar = TarGz()
        tar.add("custody-agent/Agent.conf", Data(conf.utf8), mode: 0o600)
        tar.add("custody-agent/install.sh", Data(AgentPackageTemplates.installScript.utf8), mode: 0o755)
        let cert = config.tlsCertificateFile ?? config.tlsDir + "/server.crt"
        guard let certificate = FileManager.default.contents(atPath: cert) else {
            throw APIError.badRequest("no_certificate", "the server's certificate \(cert) cannot be read")
        }
        tar.add("custody-agent/server.crt", certificate, mode: 0o644)
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let binary = me.deletingLastPathComponent().appendingPathComponent("custody-agent").path
        let found = includeBinary && os == "linux" && me.lastPathComponent == "custody" && FileManager.default.isExecutableFile(atPath: binary)
        if found, let data = FileManager.default.contents(atPath: binary) { tar.add("custody-agent/custody-agent", data, mode: 0o755) }
        return Bundle(archive: try tar.gzipped(), token: token, expiresAt: expires, includesBinary: found)
    }

    /// First contact: the token is used up, the agent's keys are recorded, and the request must be
    /// signed by the key it presents.
    func enroll(_ e: EnrollRequest, headers: [String: String], body: Data, method: String, path: String) async throws -> AgentRecord {
        guard let signing = try? Curve25519.Signing.PublicKey(rawRepresentation: e.signingKey),
            (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: e.sealingKey)) != nil
        else { throw APIError.badRequest("invalid_key", "signingKey and sealingKey must be raw 32-byte Curve25519 keys") }
        guard let time = headers[AgentWire.timeHeader], let nonce = headers[AgentWire.nonceHeader],
            let sig = headers[AgentWire.signatureHeader].flatMap({ Data(base64Encoded: $0) }),
            let t = Double(time), abs(now().timeIntervalSince1970 - t) <= AgentWire.maxSkew,
            signing.isValidSignature(sig, for: AgentWire.canonical(method: method, path: path, time: time, nonce: nonce, body: body))
        else { throw APIError(.unauthorized, "bad_signature", "an enrollment must be signed, within 5 minutes, by the key it enrolls") }
        for (field, value) in [("hostname", e.hostname), ("os", e.os), ("arch", e.arch), ("version", e.version)] {
            guard !value.isEmpty, value.count <= 253, !value.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw APIError.badRequest("invalid_field", "\(field) must be 1 to 253 characters without spaces")
            }
        }
        let at = now().seconds
        return try await store.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM enrollmentTokens WHERE digest = ?", arguments: [Tokens.hash(e.token)]),
                (row["usedAt"] as Double?) == nil, (row["expiresAt"] as Double) > at
            else { throw APIError(.unauthorized, "invalid_token", "the enrollment token is unknown, used or expired") }
            let agent = AgentRecord(id: newID(), hostname: e.hostname.lowercased(), os: e.os, arch: e.arch, version: e.version,
                signingKey: e.signingKey, sealingKey: e.sealingKey, resourceId: row["resourceId"], enrolledAt: at, lastSeenAt: at)
            try agent.insert(db)
            try db.execute(sql: "UPDATE enrollmentTokens SET usedAt = ?, agentId = ? WHERE digest = ?", arguments: [at, agent.id, Tokens.hash(e.token)])
            if let rid = agent.resourceId, try ResourceRecord.fetchOne(db, key: rid) != nil {
                // The administrator who made the bundle for this resource bound it.
                try bind(agent: agent.id, resource: rid, by: row["createdBy"], db)
            }
            try AuditLog.append(AuditEvent(user: "agent:\(agent.hostname)", ip: "agent", operation: "agent_enrolled",
                message: "agent \(agent.id) on \(agent.hostname) (\(agent.os)/\(agent.arch), \(agent.version))"
                    + (agent.resourceId.map { " bound to resource \($0)" } ?? ""), resourceId: agent.resourceId), in: db)
            return agent
        }
    }

    /// The agent an administrator bound to a resource in mode `agent` (by the bundle made for it, or
    /// by approving a binding). A host name never binds anything.
    func agentFor(_ r: ResourceRecord, _ db: Database) throws -> AgentRecord? {
        try AgentRecord.fetchOne(db, sql: """
            SELECT a.* FROM agentBindings b JOIN agents a ON a.id = b.agentId WHERE b.resourceId = ? AND a.revokedAt IS NULL
            """, arguments: [r.id])
    }
}
