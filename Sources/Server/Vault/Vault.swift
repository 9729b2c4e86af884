import Crypto
import Foundation
import Shared

/// AES-256-GCM sealing with a fresh nonce per encryption and the record's identity as
/// associated data, so a ciphertext copied to another row fails to open.
struct Vault: Sendable {
    let masterKey: MasterKey
    static let version: UInt8 = 1

    func seal(_ secret: Secret, identity: String) throws -> Data {
        try seal(Data(secret.reveal().utf8), identity: identity)
    }

    func seal(_ plain: Data, identity: String) throws -> Data {
        let box = try AES.GCM.seal(plain, using: masterKey.key, authenticating: Data(identity.utf8))
        guard let combined = box.combined else { throw VaultError(.integrity, "sealing failed") }
        return Data([Self.version]) + Data(masterKey.id) + combined
    }

    func open(_ sealed: Data, identity: String) throws(VaultError) -> Data {
        let bytes = [UInt8](sealed)
        guard bytes.count >= 9 + 12 + 16, bytes[0] == Self.version else {
            throw VaultError(.integrity, "record \(identity) is not a sealed Custody value")
        }
        guard Array(bytes[1..<9]) == masterKey.id else {
            throw VaultError(.wrongKey, "record \(identity) is sealed under another master key")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: Data(bytes[9...]))
            return try AES.GCM.open(box, using: masterKey.key, authenticating: Data(identity.utf8))
        } catch {
            throw VaultError(.integrity, "record \(identity) failed its integrity check")
        }
    }

    func openSecret(_ sealed: Data, identity: String) throws(VaultError) -> Secret {
        let data = try open(sealed, identity: identity)
        guard let text = String(data: data, encoding: .utf8) else {
            throw VaultError(.integrity, "record \(identity) is not text")
        }
        return Secret(text)
    }

    static func secretIdentity(secretID: String, accountID: String) -> String {
        "custody.secret.v1|\(secretID)|\(accountID)"
    }

    static let canaryIdentity = "custody.vault.canary.v1"
    static let canaryText = Data("custody vault canary".utf8)
}
