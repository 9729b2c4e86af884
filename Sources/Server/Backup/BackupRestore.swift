import Crypto
import Foundation
import Shared

/// Opens a backup file and restores it: every frame authenticated, the files written into a
/// staging folder, the vault checked, and only then the files moved into place.
struct BackupRestore {
    let file: String
    let reader: BackupReader

    /// The backup's key from what the caller has: the master key (its own mode) or the passphrase.
    init(file: String, masterKey: MasterKey?, passphrase: Secret?) throws(BackupError) {
        let header = try BackupReader.header(of: file).header
        let key: BackupKey
        switch header.mode {
        case .masterKey:
            guard let masterKey else {
                throw BackupError(.badInput, "this backup is sealed with the master key (id \(header.keyId ?? "?")); give it with --master-key-file")
            }
            key = BackupKey.from(masterKey: masterKey, salt: header.salt)
        case .passphrase:
            guard let passphrase else { throw BackupError(.badInput, "this backup is sealed with a passphrase; give it with --passphrase-file") }
            key = try BackupKey.from(passphrase: passphrase, salt: header.salt, scrypt: header.scrypt ?? .init())
        }
        self.file = file
        reader = try BackupReader(path: file, key: key)
    }

    var header: BackupHeader { reader.header }

    /// Writes every entry into `dir` (which must be empty), refusing names a backup may not hold.
    func extract(into dir: String, masterKey: MasterKey?) throws -> (manifest: BackupManifest, entries: Set<BackupEntry>) {
        var seen = Set<BackupEntry>()
        var current: FileHandle? = nil
        var manifestData = Data()
        var sealData = Data()
        var inManifest = false
        var inSeal = false
        defer { try? current?.close() }
        try reader.read(begin: { name, _ in
            try current?.synchronize()
            try current?.close()
            current = nil
            guard let entry = BackupEntry(rawValue: name), !seen.contains(entry) else {
                throw BackupError(.damaged, "the backup holds an entry it may not (\(name.prefix(80)))")
            }
            if seen.isEmpty && entry != .manifest { throw BackupError(.damaged, "the backup does not start with its manifest") }
            seen.insert(entry)
            inManifest = entry == .manifest
            inSeal = entry == .seal
            if inManifest || inSeal { return }
            let path = dir + "/" + entry.rawValue
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, entry.mode)
            guard fd >= 0 else { throw BackupError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
            current = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        }, data: { piece in
            if inManifest || inSeal {
                if inSeal { sealData.append(piece) } else { manifestData.append(piece) }
                guard manifestData.count < 1 << 20, sealData.count <= 32 else { throw BackupError(.damaged, "the backup's manifest or seal is too large") }
            } else {
                try current?.write(contentsOf: piece)
            }
        })
        try current?.synchronize()
        let manifest = try BackupManifest.decode(manifestData)
        guard seen.contains(.database) else { throw BackupError(.damaged, "the backup holds no database") }
        // A master key given from outside is checked against the seal: a passphrase holder cannot forge a vault.
        if let masterKey {
            guard let digest = reader.sealedDigest, sealData.count == 32,
                HMAC<SHA256>.isValidAuthenticationCode(sealData, authenticating: reader.headerHash + digest,
                    using: BackupKey.sealKey(masterKey: masterKey, salt: header.salt))
            else {
                throw BackupError(.verifyFailed, "the backup's master-key seal does not verify with the key given: it was not made with this vault's key, or was altered")
            }
        }
        guard Set(manifest.entries) == Set(seen.subtracting([.seal]).map(\.rawValue)) else {
            throw BackupError(.damaged, "the backup's entries do not match its manifest")
        }
        return (manifest, seen.subtracting([.seal]))
    }

    /// Checks the vault extracted into `dir` with `masterKey`; a failure names what failed.
    static func check(_ dir: String, masterKey: MasterKey) throws -> BackupCheck {
        let check = try SQLiteBackupFile.check(path: dir + "/" + BackupEntry.database.rawValue, masterKey: masterKey)
        if check.integrity != "ok" { throw BackupError(.verifyFailed, "the backup's database failed SQLite's integrity check: \(check.integrity)") }
        if !check.unreadable.isEmpty {
            throw BackupError(.verifyFailed, "\(check.unreadable.count) sealed values do not open: \(check.unreadable.prefix(5).joined(separator: ", "))")
        }
        if let bad = check.audit.firstBad { throw BackupError(.verifyFailed, "the audit chain is broken at record \(bad): \(check.audit.problem ?? "")") }
        if let problem = check.audit.problem { throw BackupError(.verifyFailed, "the audit chain does not verify: \(problem)") }
        return check
    }
}
