import Foundation
import Shared

/// `custody backup restore` and `verify`: a backup file into a data directory, or into a
/// scratch folder that is removed again.
enum BackupFiles {
    struct Restored: Sendable {
        var manifest: BackupManifest
        var check: BackupCheck?
        var entries: [String]
    }

    /// Restores into `dataDir`, which must be empty or new; on any failure nothing is left there.
    static func restore(_ file: String, into dataDir: String, masterKey given: MasterKey?, passphrase: Secret?) throws -> Restored {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: dataDir, isDirectory: &isDir)
        if existed {
            guard isDir.boolValue else { throw BackupError(.badInput, "\(dataDir) is a file, not a directory") }
            guard (try? fm.contentsOfDirectory(atPath: dataDir))?.isEmpty ?? false else {
                throw BackupError(.badInput, "\(dataDir) is not empty; restore into a new or empty directory")
            }
        }
        let opened = try BackupRestore(file: file, masterKey: given, passphrase: passphrase)
        try fm.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let staging = dataDir + "/.restoring"
        var placed: [String] = []
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let (manifest, entries) = try opened.extract(into: staging, masterKey: given)
            guard let key = try given ?? (entries.contains(.masterKey) ? MasterKey.load(path: staging + "/master.key") : nil) else {
                throw BackupError(.badInput, "the backup does not carry the master key; give it with --master-key-file to check and restore the vault")
            }
            let check = try BackupRestore.check(staging, masterKey: key)
            for entry in entries.sorted(by: { $0.rawValue < $1.rawValue }) where entry != .manifest {
                let to = dataDir + "/" + entry.rawValue
                try fm.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                // link(2) never replaces a file that appeared meanwhile.
                guard link(staging + "/" + entry.rawValue, to) == 0 else {
                    throw BackupError(.io, "cannot place the restored \(entry.rawValue) in \(dataDir): \(String(cString: strerror(errno)))")
                }
                placed.append(to)
            }
            try fm.removeItem(atPath: staging)
            MasterKey.syncDirectory(of: dataDir + "/" + BackupEntry.database.rawValue)
            return Restored(manifest: manifest, check: check, entries: entries.map(\.rawValue).sorted())
        } catch {
            // Only what the restore made goes: files that appeared meanwhile stay.
            for path in placed { try? fm.removeItem(atPath: path) }
            try? fm.removeItem(atPath: staging)
            rmdir(dataDir + "/tls")  // only when empty
            if !existed { rmdir(dataDir) }
            throw error
        }
    }

    /// Authenticates every frame and, with a master key (given or carried), checks the vault as a
    /// restore would; without one only the file and its database's structure are checked.
    static func verify(_ file: String, masterKey: MasterKey?, passphrase: Secret?, scratch: String = NSTemporaryDirectory()) throws -> Restored {
        let dir = scratch + "/custody-verify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let opened = try BackupRestore(file: file, masterKey: masterKey, passphrase: passphrase)
        let (manifest, entries) = try opened.extract(into: dir, masterKey: masterKey)
        let key = try masterKey ?? (entries.contains(.masterKey) ? MasterKey.load(path: dir + "/master.key") : nil)
        guard let key else {
            let integrity = try SQLiteBackupFile.integrity(path: dir + "/" + BackupEntry.database.rawValue)
            guard integrity == "ok" else { throw BackupError(.verifyFailed, "the backup's database failed SQLite's integrity check: \(integrity)") }
            return Restored(manifest: manifest, check: nil, entries: entries.map(\.rawValue).sorted())
        }
        return Restored(manifest: manifest, check: try BackupRestore.check(dir, masterKey: key), entries: entries.map(\.rawValue).sorted())
    }
}
