import Crypto
import Foundation

/// The agent protocol: every request after enrollment is signed with the agent's Ed25519 key over
/// method, path, time, nonce and the body's SHA-256; the server refuses stale, replayed or forged ones.
public enum AgentWire {
    public static let agentHeader = "X-Custody-Agent"
    public static let timeHeader = "X-Custody-Time"
    public static let nonceHeader = "X-Custody-Nonce"
    public static let signatureHeader = "X-Custody-Signature"
    /// Largest accepted clock difference, in seconds.
    public static let maxSkew: Double = 300
    /// Largest request body an agent may send.
    public static let maxBody = 64 * 1024
    static let hpkeInfo = Data("custody agent job v1".utf8)
    static let suite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly

    public static func canonical(method: String, path: String, time: String, nonce: String, body: some DataProtocol) -> Data {
        let digest = SHA256.hash(data: body).hexString
        return Data("\(method)\n\(path)\n\(time)\n\(nonce)\n\(digest)".utf8)
    }

    /// The headers of a signed request.
    public static func sign(method: String, path: String, body: some DataProtocol, agentID: String, key: Curve25519.Signing.PrivateKey,
        now: Date = Date()) throws -> [String: String]
    {
        let time = String(Int(now.timeIntervalSince1970))
        let nonce = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let signature = try key.signature(for: canonical(method: method, path: path, time: time, nonce: nonce, body: body))
        return [agentHeader: agentID, timeHeader: time, nonceHeader: nonce, signatureHeader: signature.base64EncodedString()]
    }

    /// Seals a job (its `ResetJob` JSON, passwords included) to one agent's HPKE key; the job id is bound as associated data.
    public static func seal(_ plaintext: [UInt8], to key: Curve25519.KeyAgreement.PublicKey, jobID: String) throws -> (encapsulatedKey: Data, ciphertext: Data) {
        var sender = try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: hpkeInfo)
        let ciphertext = try sender.seal(plaintext, authenticating: Data(jobID.utf8))
        return (sender.encapsulatedKey, ciphertext)
    }

    public static func open(_ job: AgentJob, with key: Curve25519.KeyAgreement.PrivateKey) throws -> Data {
        var recipient = try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: hpkeInfo, encapsulatedKey: job.encapsulatedKey)
        return try recipient.open(job.ciphertext, authenticating: Data(job.id.utf8))
    }
}

public struct EnrollRequest: Codable, Sendable {
    public var token: String
    public var hostname: String
    public var os: String
    public var arch: String
    public var version: String
    /// Raw Ed25519 public key.
    public var signingKey: Data
    /// Raw X25519 public key for HPKE.
    public var sealingKey: Data

    public init(token: String, hostname: String, os: String, arch: String, version: String, signingKey: Data, sealingKey: Data) {
        (self.token, self.hostname, self.os, self.arch, self.version, self.signingKey, self.sealingKey) =
            (token, hostname, os, arch, version, signingKey, sealingKey)
    }
}

public struct EnrollResponse: Codable, Sendable {
    public var agentId: String
    public init(agentId: String) { self.agentId = agentId }
}

public struct PollRequest: Codable, Sendable {
    /// Seconds the server may hold the request open waiting for work (long poll); 0 answers at once.
    public var wait: Int
    public var version: String
    /// The host's local login accounts, sent now and then for account sync.
    public var accounts: [String]?
    public init(wait: Int, version: String, accounts: [String]? = nil) { (self.wait, self.version, self.accounts) = (wait, version, accounts) }
}

/// One leased job: the sealed `ResetJob` and the lease that must be renewed while it runs.
public struct AgentJob: Codable, Sendable {
    public var id: String
    public var leaseId: String
    public var leaseSeconds: Int
    public var operation: String
    public var encapsulatedKey: Data
    public var ciphertext: Data
    public init(id: String, leaseId: String, leaseSeconds: Int, operation: String, encapsulatedKey: Data, ciphertext: Data) {
        (self.id, self.leaseId, self.leaseSeconds, self.operation, self.encapsulatedKey, self.ciphertext) =
            (id, leaseId, leaseSeconds, operation, encapsulatedKey, ciphertext)
    }
}

public struct PollResponse: Codable, Sendable {
    public var jobs: [AgentJob]
    public init(jobs: [AgentJob]) { self.jobs = jobs }
}

public struct LeaseRequest: Codable, Sendable {
    public var leaseId: String
    public init(leaseId: String) { self.leaseId = leaseId }
}

public struct ResultRequest: Codable, Sendable {
    public var leaseId: String
    public var response: PluginResponse
    public init(leaseId: String, response: PluginResponse) { (self.leaseId, self.response) = (leaseId, response) }
}
