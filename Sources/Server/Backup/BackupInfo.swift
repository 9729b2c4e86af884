import Foundation

/// A backup file in `backupDir`, as `GET /backups` lists it.
struct BackupInfo: Codable, Sendable, Equatable {
    enum Trigger: String, Codable, Sendable, CaseIterable { case manual, scheduled }

    var name: String
    var bytes: Int
    var createdAt: Date
    var trigger: Trigger
    var mode: BackupHeader.Mode
    /// What the database held; known for a backup just made (the file's own counts are sealed).
    var counts: BackupCounts?

    static let suffix = ".custody-backup"

    static func fileName(_ at: Date, _ trigger: Trigger) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let tag = String(UUID().uuidString.prefix(4)).lowercased()
        return "custody-\(f.string(from: at))Z-\(tag)-\(trigger.rawValue)\(suffix)"
    }

    /// Only names the server gives its scheduled backups: pruning never touches another file.
    static func isScheduled(_ name: String) -> Bool {
        name.range(of: #"^custody-[0-9]{8}-[0-9]{6}Z-[0-9a-f]{4}-scheduled\.custody-backup$"#, options: .regularExpression) != nil
    }

    /// The backups in `dir`, newest first, read from their clear headers.
    static func list(_ dir: String) -> [BackupInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasPrefix("custody-") && $0.hasSuffix(suffix) }.compactMap { name -> BackupInfo? in
            let path = dir + "/" + name
            guard let header = try? BackupReader.header(of: path).header,
                let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            else { return nil }
            return BackupInfo(name: name, bytes: size, createdAt: header.createdAt, trigger: isScheduled(name) ? .scheduled : .manual,
                mode: header.mode, counts: nil)
        }.sorted { $0.createdAt > $1.createdAt }
    }
}
