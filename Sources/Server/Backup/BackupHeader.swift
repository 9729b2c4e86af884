import Foundation

/// The clear part of a backup file: how its key is made and what it holds. Every frame
/// authenticates it (its hash is in each frame's associated data), so it cannot be altered.
struct BackupHeader: Codable, Sendable, Equatable {
    enum Mode: String, Codable, Sendable, CaseIterable {
        /// A key derived from the vault's master key (HKDF-SHA256 with the header's salt).
        case masterKey
        /// A key derived from a passphrase (scrypt), for copies kept away from the master key.
        case passphrase
    }

    struct Scrypt: Codable, Sendable, Equatable {
        var n = 1 << 15
        var r = 8
        var p = 1
    }

    var format = 1
    var createdAt: Date
    var serverVersion: String
    var mode: Mode
    /// Hex of the master key's id (`MasterKey.id`), in `masterKey` mode.
    var keyId: String?
    var salt: Data
    var scrypt: Scrypt?
    /// HMAC-SHA256 of a fixed label under the backup key, cut to 16 bytes: tells a wrong key or
    /// passphrase from a damaged file.
    var keyCheck: Data
    var includesMasterKey: Bool
    /// The store the database came from: `sqlite` or `postgres`.
    var store: String
    var chunkBytes: Int

    static let magic = Data("CUSTBAK\u{1}".utf8)
    static let maxHeaderBytes = 16 * 1024

    func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        e.dataEncodingStrategy = .base64
        return try e.encode(self)
    }

    static func decode(_ data: Data) throws(BackupError) -> BackupHeader {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        guard let h = try? d.decode(BackupHeader.self, from: data) else {
            throw BackupError(.notABackup, "the backup's header cannot be read")
        }
        guard h.format == 1 else { throw BackupError(.notABackup, "backup format \(h.format) is newer than this server reads (1)") }
        guard h.mode == .masterKey || h.scrypt != nil, (64 * 1024...16 * 1024 * 1024).contains(h.chunkBytes), h.salt.count == 32, h.keyCheck.count == 16 else {
            throw BackupError(.notABackup, "the backup's header has values out of range")
        }
        // At most 128·N·r = 64 MiB of memory and p ≤ 2: a forged header cannot make the KDF a weapon.
        if let s = h.scrypt, !((1 << 10)...(1 << 16)).contains(s.n) || s.n & (s.n - 1) != 0 || !(1...8).contains(s.r) || !(1...2).contains(s.p) {
            throw BackupError(.notABackup, "the backup's scrypt settings are out of range")
        }
        return h
    }
}
