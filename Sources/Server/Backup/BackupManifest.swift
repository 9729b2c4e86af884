import Foundation

/// The files a backup may hold: a restore writes these names and no others.
enum BackupEntry: String, CaseIterable, Sendable {
    case manifest = "manifest.json"
    case database = "custody.sqlite"
    case config = "custody.yaml"
    case masterKey = "master.key"
    case tlsCertificate = "tls/server.crt"
    case tlsKey = "tls/server.key"
    /// The master-key seal (`BackupWriter.finish`): checked, never written out.
    case seal = "seal.hmac"

    /// Mode of the restored file: everything but the certificate is for the server's user only.
    var mode: mode_t { self == .tlsCertificate ? 0o644 : 0o600 }
}

/// The first entry of a backup: what it holds, readable once the backup is opened.
struct BackupManifest: Codable, Sendable, Equatable {
    var createdAt: Date
    var serverVersion: String
    var store: String
    var counts: BackupCounts
    var entries: [String]

    func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .iso8601
        return try e.encode(self)
    }

    static func decode(_ data: Data) throws(BackupError) -> BackupManifest {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        guard let m = try? d.decode(BackupManifest.self, from: data) else { throw BackupError(.damaged, "the backup's manifest cannot be read") }
        return m
    }
}

/// The files beside the database that go into a backup, where the server keeps them.
struct BackupSources: Sendable {
    var tlsCertificate: String?
    var tlsKey: String?
    var config: String?
    /// The master key file, only when the backup is to carry it (`--include-master-key`).
    var masterKey: String?

    /// What a server with this configuration uses: its TLS pair (the admin's or the generated one)
    /// and its config file.
    static func of(_ cfg: ServerConfiguration, configFile: String?) -> BackupSources {
        BackupSources(tlsCertificate: cfg.tlsCertificateFile ?? cfg.tlsDir + "/server.crt", tlsKey: cfg.tlsKeyFile ?? cfg.tlsDir + "/server.key",
            config: configFile)
    }

    var files: [(BackupEntry, String)] {
        [(BackupEntry.config, config), (.masterKey, masterKey), (.tlsCertificate, tlsCertificate), (.tlsKey, tlsKey)]
            .compactMap { entry, path in path.flatMap { FileManager.default.fileExists(atPath: $0) ? (entry, $0) : nil } }
    }
}
