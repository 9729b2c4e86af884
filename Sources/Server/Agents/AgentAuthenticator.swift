import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// A signed agent request: its agent and body.
struct SignedRequest: Sendable {
    var agent: AgentRecord
    var body: Data
}

/// Checks a signed agent request: a known, unrevoked agent; a time within five minutes; a nonce
/// never seen; a valid Ed25519 signature over method, path, time, nonce and body digest.
struct AgentAuthenticator: Sendable {
    let agents: any AgentStore
    /// Agent request nonces within the replay window; read back from the store on first use after a start.
    let nonces: NonceCache
    let now: @Sendable () -> Date

    func readAgentBody(_ request: inout Request) async throws -> Data {
        do { return Data((try await request.body.collect(upTo: AgentWire.maxBody)).readableBytesView) } catch {
            throw DomainError(.tooLarge, "body_too_large", "an agent request is at most \(AgentWire.maxBody) bytes")
        }
    }

    /// The request's agent. Nothing is written until the agent is known, unrevoked and its signature
    /// verifies and the nonce is new; then the nonce and last-seen time are kept in one write.
    func authenticateAgent(_ request: inout Request) async throws -> SignedRequest {
        let body = try await readAgentBody(&request)
        func header(_ name: String) throws -> String {
            guard let field = HTTPField.Name(name), let v = request.headers[field], !v.isEmpty, v.count <= 200 else {
                throw DomainError(.unauthenticated, "unsigned", "missing \(name)")
            }
            return v
        }
        let (agentID, time, nonce, signature) = (try header(AgentWire.agentHeader), try header(AgentWire.timeHeader),
            try header(AgentWire.nonceHeader), try header(AgentWire.signatureHeader))
        guard let t = Double(time), abs(now().timeIntervalSince1970 - t) <= AgentWire.maxSkew else {
            throw DomainError(.unauthenticated, "clock_skew", "the request time is more than \(Int(AgentWire.maxSkew)) s from the server's")
        }
        let canonical = AgentWire.canonical(method: request.method.rawValue, path: request.uri.path, time: time, nonce: nonce, body: body)
        let at = now().timeIntervalSince1970
        // Known, unrevoked and signed, read without a write; then the nonce, in memory.
        guard let agent = try await agents.agent(agentID) else { throw DomainError(.unauthenticated, "unknown_agent", "no such agent") }
        guard agent.revokedAt == nil else { throw DomainError(.forbidden, "agent_revoked", "this agent was revoked") }
        guard let sig = Data(base64Encoded: signature), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: agent.signingKey),
            key.isValidSignature(sig, for: canonical)
        else { throw DomainError(.unauthenticated, "bad_signature", "the signature does not verify") }
        let seen = agentID + ":" + nonce
        guard try await claimAgentNonce(seen, at: at) else { throw DomainError(.unauthenticated, "replayed", "this request was already received") }
        let fresh: Bool
        do {
            let prune = nonces.prunesStore(at: at) ? Date(timeIntervalSince1970: at - nonces.window) : nil
            fresh = try await agents.recordContact(agentID: agentID, nonce: seen, at: Date(timeIntervalSince1970: at), pruneBefore: prune)
        } catch {
            nonces.release(seen)
            throw error
        }
        // Stored already: another node sharing the store took this request.
        guard fresh else { throw DomainError(.unauthenticated, "replayed", "this request was already received") }
        return SignedRequest(agent: agent, body: body)
    }

    /// True the first time `nonce` is seen within the replay window, in memory; before the first
    /// claim the stored nonces are read back, so a restart does not reopen the window.
    func claimAgentNonce(_ nonce: String, at: TimeInterval) async throws -> Bool {
        if nonces.needsRestore {
            let since = Date(timeIntervalSince1970: at - nonces.window)
            nonces.restore(try await agents.nonces(since: since).map { (nonce: $0.nonce, at: $0.at.seconds) })
        }
        return nonces.claim(nonce, at: at)
    }

    /// Records the version an agent reports, when it changed.
    func noteVersion(_ version: String, of agent: AgentRecord) async throws {
        if version != agent.version { try await agents.setVersion(agentID: agent.id, version) }
    }
}
