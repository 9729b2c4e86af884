import Crypto
import Foundation
import Shared

/// Seals a database snapshot and the files beside it into one backup file.
struct BackupMaker: Sendable {
    let header: BackupHeader
    let key: BackupKey
    let sealKey: SymmetricKey?

    /// A backup under the master key (the server's scheduled ones), or under a passphrase for
    /// copies kept apart from the key; only the latter may carry the key itself.
    init(masterKey: MasterKey?, passphrase: Secret?, includesMasterKey: Bool, store: String, at: Date) throws(BackupError) {
        let salt = BackupKey.randomSalt()
        let key: BackupKey
        var header = BackupHeader(createdAt: at, serverVersion: CustodyRelease.version, mode: .masterKey, keyId: nil, salt: salt, scrypt: nil,
            keyCheck: Data(), includesMasterKey: includesMasterKey, store: store, chunkBytes: 1 << 20)
        if let passphrase {
            header.mode = .passphrase
            header.scrypt = BackupHeader.Scrypt()
            key = try BackupKey.from(passphrase: passphrase, salt: salt, scrypt: header.scrypt ?? .init())
        } else if let masterKey {
            guard !includesMasterKey else {
                throw BackupError(.badInput, "a backup that carries the master key must be sealed with a passphrase (--passphrase-file)")
            }
            header.keyId = masterKey.id.map { String(format: "%02x", $0) }.joined()
            key = BackupKey.from(masterKey: masterKey, salt: salt)
        } else {
            throw BackupError(.badInput, "a backup needs the master key or a passphrase to be sealed with")
        }
        header.keyCheck = key.check
        self.header = header
        self.key = key
        sealKey = masterKey.map { BackupKey.sealKey(masterKey: $0, salt: salt) }
    }

    /// Writes `path` from the snapshot `database` (counted as `counts`) and `sources`.
    func write(to path: String, database: String, counts: BackupCounts, sources: BackupSources) throws -> Int {
        let files = sources.files
        let manifest = BackupManifest(createdAt: header.createdAt, serverVersion: header.serverVersion, store: header.store, counts: counts,
            entries: [BackupEntry.manifest.rawValue, BackupEntry.database.rawValue] + files.map(\.0.rawValue))
        let writer = try BackupWriter(path: path, header: header, key: key, sealKey: sealKey)
        do {
            try writer.add(name: BackupEntry.manifest.rawValue, data: try manifest.encoded())
            try writer.add(name: BackupEntry.database.rawValue, file: database)
            for (entry, file) in files { try writer.add(name: entry.rawValue, file: file) }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return writer.bytes
    }
}
