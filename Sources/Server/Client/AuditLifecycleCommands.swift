import ArgumentParser
import Foundation

struct AuditPurge: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "purge",
        abstract: "Move audit records older than a date into an archive, and save the archive here (super-administrators).",
        discussion: """
            The server writes the archive into its auditArchiveDir first, then removes the records and leaves an \
            authenticated checkpoint, so the rest of the trail still verifies; the purge is itself audited. \
            Check the saved copy with `custody audit verify --archive FILE`.
            """)
    static let routes = ["POST /audit/purge", "GET /audit/archives/:name"]
    @OptionGroup var options: ClientOptions
    @Option(help: "Purge records older than this: 2026-01-31 (midnight UTC) or an ISO 8601 time.") var before: String
    @Option(help: "Where to save a copy of the archive (refused if it exists).") var archive: String

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: archive) else { throw ValidationError("\(archive) exists already") }
        let client = try options.client()
        let result = try await client.call(.POST, "/audit/purge", json: ["before": before]) as? [String: Any] ?? [:]
        guard let name = result["archive"] as? String else {
            print("no audit record is older than \(before); nothing was purged")
            return
        }
        do {
            let handle = try AuditArchiveFile.create(archive)
            defer { try? handle.close() }
            _ = try await client.download("/audit/archives/\(name)", to: handle)
            try handle.synchronize()
        } catch {
            unlink(archive)
            throw ValidationError("the records were purged into the server's \(name), but \(archive) could not be saved (\(error)); fetch it with `custody audit archives --get \(name) --out FILE`")
        }
        print("purged \(result["records"] ?? 0) records (\(result["firstId"] ?? "")...\(result["lastId"] ?? "")) into \(name); saved to \(archive)")
    }
}

struct AuditArchives: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "archives",
        abstract: "List the server's audit archives, or save one (--get NAME --out FILE) (super-administrators).")
    static let routes = ["GET /audit/archives", "GET /audit/archives/:name"]
    @OptionGroup var options: ClientOptions
    @Option(help: "The archive to save.") var get: String?
    @Option(help: "Where to save it.") var out: String?

    func run() async throws {
        let client = try options.client()
        if let get {
            guard let out else { throw ValidationError("--get needs --out FILE") }
            let handle = try AuditArchiveFile.create(out)
            defer { try? handle.close() }
            _ = try await client.download("/audit/archives/\(get)", to: handle)
            print("saved \(get) to \(out)")
            return
        }
        Output.print(try await client.call(.GET, "/audit/archives"), json: options.json, columns: ["name", "bytes", "createdAt"])
    }
}

struct AuditExportCommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "export",
        abstract: "Export the audit records you may see in a range, oldest first, as CSV or JSON lines (audited).")
    static let routes = ["GET /audit/export"]
    @OptionGroup var options: ClientOptions
    @Option(help: "csv or jsonl.") var format: String = "csv"
    @Option(help: "ISO 8601 time: records at or after it.") var from: String?
    @Option(help: "ISO 8601 time: records before it.") var to: String?
    @Option var resourceId: String?
    @Option var accountId: String?
    @Option(help: "Who did it.") var user: String?
    @Option(help: "An operation, e.g. retrieve_password.") var operation: String?
    @Option(help: "Write to this file (default: standard output).") var out: String?

    func run() async throws {
        guard ["csv", "jsonl"].contains(format) else { throw ValidationError("--format is csv or jsonl") }
        let path = Query.path("/audit/export", [("format", format), ("from", from), ("to", to), ("resourceId", resourceId), ("accountId", accountId),
            ("user", user), ("operation", operation)])
        let client = try options.client()
        guard let out else {
            _ = try await client.download(path, to: FileHandle.standardOutput)
            return
        }
        let handle = try AuditArchiveFile.create(out)
        defer { try? handle.close() }
        do { _ = try await client.download(path, to: handle) } catch {
            unlink(out)
            throw error
        }
    }
}

struct AuditAlertsCommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "alerts",
        abstract: "Show or set which audit operations raise a notice (audit_alert) and the daily digest (audit_digest).",
        discussion: "Example: custody audit alerts --set --operation retrieve_password --operation create_user --digest-at 07:00")
    static let routes = ["GET /settings/audit-alerts", "PUT /settings/audit-alerts"]
    @OptionGroup var options: ClientOptions
    @Flag(help: "Replace the settings with the options given (administrators).") var set = false
    @Option(help: "An operation to alert on (repeat it); none given with --set: no alerts.") var operation: [String] = []
    @Option(help: "HH:MM for a daily digest; without it --set turns the digest off.") var digestAt: String?

    func run() async throws {
        let client = try options.client()
        if set {
            var body: [String: Any] = ["operations": operation]
            if let digestAt { body["digestAt"] = digestAt }
            _ = try await client.call(.PUT, "/settings/audit-alerts", json: body)
        }
        Output.print(try await client.call(.GET, "/settings/audit-alerts"), json: options.json, columns: ["operations", "digestAt"])
    }
}

/// A new file for this user only, never over an existing one.
enum AuditArchiveFile {
    static func create(_ path: String) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot create \(path): \(String(cString: strerror(errno)))") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
