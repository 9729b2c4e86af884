import Crypto
import Foundation

/// Failed logins and sign-ins told between the nodes sharing a PostgreSQL store, so each node's
/// login throttle counts the attempts made through all of them. `NOTIFY` needs no privilege: any
/// role that may connect to the database can send or hear on a channel. So each notice is sealed
/// (AES-256-GCM under a key derived from the master key, which the database never holds): a forged
/// or altered notice does not open, a heard one tells nothing, and one outside the throttle's
/// window (stale, or from the future) or from this node itself is ignored.
struct LoginNotices: Sendable {
    static let channel = "custody_logins"

    struct Notice: Codable, Sendable, Equatable {
        enum Kind: String, Codable, Sendable, CaseIterable { case failed, signedIn }
        var kind: Kind
        /// The name's digest and the address's network, as the throttle keys them.
        var name: String
        var address: String
        var at: Double
        var node: String
    }

    let node: String
    private let key: SymmetricKey

    init(vault: Vault, node: String) {
        self.node = node
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: vault.masterKey.key, info: Data("custody login notices v1".utf8), outputByteCount: 32)
    }

    func seal(_ notice: Notice) throws -> String {
        let box = try AES.GCM.seal(try JSONEncoder().encode(notice), using: key, authenticating: Data(Self.channel.utf8))
        return (box.combined ?? Data()).base64EncodedString()
    }

    /// The notice, or nil when it is not one of ours, is this node's own, or falls outside
    /// [now − window, now + skew] (nodes' clocks may differ by `skew`).
    func open(_ payload: String, now: TimeInterval, window: TimeInterval, skew: TimeInterval = 60) -> Notice? {
        guard let data = Data(base64Encoded: payload), let box = try? AES.GCM.SealedBox(combined: data),
            let plain = try? AES.GCM.open(box, using: key, authenticating: Data(Self.channel.utf8)),
            let n = try? JSONDecoder().decode(Notice.self, from: plain)
        else { return nil }
        guard n.node != node, n.at >= now - window - skew, n.at <= now + skew else { return nil }
        return n
    }
}
