import Crypto
import Foundation
import Shared

/// Bundles with one-time enrollment tokens (single use, expiring, stored as digests), and the
/// first contact that uses one up.
extension AgentDirectory {
    struct Bundle: Sendable {
        var archive: Data
        var token: String
        var expiresAt: Date
        var includesBinary: Bool
    }

    /// A tar.gz with `Agent.conf`, the server's certificate, the install script and, when found
    /// beside this server, the agent binary. A bundle for a resource binds it at enrollment, so it
    /// takes what binding takes.
    func bundle(os: String, resourceId: String?, serverURL: String, includeBinary: Bool = true, by p: Principal, ip: String) async throws
        -> Bundle
    {
        try authorizer.check(p, .manageSettings)
        // Refused before anything is built; the token's write decides again.
        if let resourceId { try await bindings.check(resourceID: resourceId, by: p, Self.manages) }
        let token = Tokens.generate()
        let expires = now().addingTimeInterval(settings.enrollmentTokenDays * 86400)
        let conf = AgentPackageTemplates.agentConf.replacingOccurrences(of: "{{serverURL}}", with: serverURL)
            .replacingOccurrences(of: "{{token}}", with: token).replacingOccurrences(of: "{{expires}}", with: Notice.stamp(expires))
        var tar = TarGz()
        tar.add("custody-agent/Agent.conf", Data(conf.utf8), mode: 0o600)
        tar.add("custody-agent/install.sh", Data(AgentPackageTemplates.installScript.utf8), mode: 0o755)
        guard let certificate = FileManager.default.contents(atPath: settings.certificateFile) else {
            throw DomainError.invalid("no_certificate", "the server's certificate \(settings.certificateFile) cannot be read")
        }
        tar.add("custody-agent/server.crt", certificate, mode: 0o644)
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let binary = me.deletingLastPathComponent().appendingPathComponent("custody-agent").path
        let found = includeBinary && os == "linux" && me.lastPathComponent == "custody" && FileManager.default.isExecutableFile(atPath: binary)
        if found, let data = FileManager.default.contents(atPath: binary) { tar.add("custody-agent/custody-agent", data, mode: 0o755) }
        let bundle = Bundle(archive: try tar.gzipped(), token: token, expiresAt: expires, includesBinary: found)
        try await bindings.addEnrollmentToken(
            EnrollmentToken(digest: Tokens.hash(token), os: os, resourceId: resourceId, createdBy: p.username, createdAt: now(), expiresAt: expires),
            by: p, check: Self.manages,
            audit: AuditEvent(user: p.username, ip: ip, operation: "agent_package",
                message: "\(os) bundle for \(serverURL), token valid until \(Notice.stamp(expires))"
                    + (found ? "" : ", without the agent binary"), resourceId: resourceId))
        return bundle
    }

    /// First contact: the token is used up, the agent's keys are recorded, and the request must be
    /// signed by the key it presents.
    func enroll(_ e: EnrollRequest, headers: [String: String], body: Data, method: String, path: String) async throws -> AgentRecord {
        guard let signing = try? Curve25519.Signing.PublicKey(rawRepresentation: e.signingKey),
            (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: e.sealingKey)) != nil
        else { throw DomainError.invalid("invalid_key", "signingKey and sealingKey must be raw 32-byte Curve25519 keys") }
        guard let time = headers[AgentWire.timeHeader], let nonce = headers[AgentWire.nonceHeader],
            let sig = headers[AgentWire.signatureHeader].flatMap({ Data(base64Encoded: $0) }),
            let t = Double(time), abs(now().timeIntervalSince1970 - t) <= AgentWire.maxSkew,
            signing.isValidSignature(sig, for: AgentWire.canonical(method: method, path: path, time: time, nonce: nonce, body: body))
        else { throw DomainError(.unauthenticated, "bad_signature", "an enrollment must be signed, within 5 minutes, by the key it enrolls") }
        for (field, value) in [("hostname", e.hostname), ("os", e.os), ("arch", e.arch), ("version", e.version)] {
            guard !value.isEmpty, value.count <= 253, !value.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw DomainError.invalid("invalid_field", "\(field) must be 1 to 253 characters without spaces")
            }
        }
        let at = now()
        let agent = AgentRecord(id: newID(), hostname: e.hostname.lowercased(), os: e.os, arch: e.arch, version: e.version,
            signingKey: e.signingKey, sealingKey: e.sealingKey, resourceId: nil, enrolledAt: at.seconds, lastSeenAt: at.seconds)
        let enrolled = try await bindings.enroll(agent, tokenDigest: Tokens.hash(e.token), at: at) { a, bound in
            let resource = a.resourceId.map {
                bound ? " bound to resource \($0)" : " for resource \($0), not bound: the bundle's maker no longer manages it; approve the binding"
            }
            return AuditEvent(user: "agent:\(a.hostname)", ip: "agent", operation: "agent_enrolled",
                message: "agent \(a.id) on \(a.hostname) (\(a.os)/\(a.arch), \(a.version))" + (resource ?? ""), resourceId: a.resourceId)
        }
        guard let enrolled else { throw DomainError(.unauthenticated, "invalid_token", "the enrollment token is unknown, used or expired") }
        return enrolled
    }
}
