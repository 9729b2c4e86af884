import Crypto
import Foundation

/// The agent's keys (Ed25519 to sign, X25519 to open sealed jobs), made at first start and kept
/// 0600 in DataDir, and the id the server gave it at enrollment.
struct AgentIdentity: Sendable {
    let signing: Curve25519.Signing.PrivateKey
    let sealing: Curve25519.KeyAgreement.PrivateKey
    var agentID: String?

    struct Stored: Codable { var signing: Data; var sealing: Data; var agentID: String? }

    static func path(_ dataDir: String) -> String { dataDir + "/identity.json" }

    static func loadOrCreate(_ dataDir: String) throws -> AgentIdentity {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(dataDir, 0o700)
        if let data = FileManager.default.contents(atPath: path(dataDir)) {
            let s = try JSONDecoder().decode(Stored.self, from: data)
            return AgentIdentity(signing: try .init(rawRepresentation: s.signing), sealing: try .init(rawRepresentation: s.sealing), agentID: s.agentID)
        }
        let id = AgentIdentity(signing: .init(), sealing: .init(), agentID: nil)
        try id.save(dataDir)
        return id
    }

    /// Written to a 0600 temporary file, then renamed over the old one.
    func save(_ dataDir: String) throws {
        let data = try JSONEncoder().encode(Stored(signing: signing.rawRepresentation, sealing: sealing.rawRepresentation, agentID: agentID))
        let tmp = Self.path(dataDir) + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw AgentConfig.Failure(description: "cannot write \(tmp)")
        }
        guard rename(tmp, Self.path(dataDir)) == 0 else { throw AgentConfig.Failure(description: "cannot replace \(Self.path(dataDir))") }
    }
}
