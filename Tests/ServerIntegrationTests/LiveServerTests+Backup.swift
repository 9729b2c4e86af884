import Foundation
import TestSupport
import Testing

@testable import ServerTestSupport

/// Backups through the real binary: `custody backup create` beside a running server, `backup now`
/// through the API, `verify`, `restore` into a new directory and a second server started on it.
extension LiveServerTests {
    @Test func aBackupOfARunningServerRestoresAndServesTheSamePasswords() async throws {
        let s = ServerProcess()
        #expect(try s.start(), "server did not start: \(s.stderr)")
        defer { s.stop() }
        let admin = try #require(try adminToken(s))
        let rid = try #require(try api(s, admin, "POST", "/resources", ["name": "bk-live", "dnsName": "bk.example.test", "type": "Linux"])["id"] as? String)
        let aid = try #require(try api(s, admin, "POST", "/resources/\(rid)/accounts", ["loginName": "dba", "password": "Dba-Backup-Pass-1"])["id"] as? String)
        let scratch = TestTargets.scratchURL.appendingPathComponent("bk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let file = scratch + "/vault.custody-backup"

        // While the server runs.
        let made = try runCommand(bin, ["backup", "create", "--data-dir", s.dataDir, "--out", file])
        #expect(made.code == 0 && made.out.contains("accounts: 1"), "\(made.out) \(made.err)")
        let again = try runCommand(bin, ["backup", "create", "--data-dir", s.dataDir, "--out", file])
        #expect(again.code == 2 && again.err.contains("exists already"), "\(again.err)")
        let raw = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(raw.range(of: Data("Dba-Backup-Pass-1".utf8)) == nil)
        let listed = try cli(s, ["backup", "now", "--json"], token: admin)
        #expect(listed.code == 0 && listed.out.contains("manual"), "\(listed.out) \(listed.err)")
        #expect(try cli(s, ["backup", "list"], token: admin).out.contains(".custody-backup"))

        // The audit trail through the CLI: an export streamed to a file, a purge with nothing old enough, alerts set.
        let exported = scratch + "/audit.csv"
        let export = try cli(s, ["audit", "export", "--out", exported], token: admin)
        #expect(export.code == 0, "\(export.err)")
        let csv = try String(contentsOfFile: exported, encoding: .utf8)
        #expect(csv.hasPrefix("id,at,user,") && csv.contains("create_account"), "\(csv.prefix(300))")
        #expect((try FileManager.default.attributesOfItem(atPath: exported)[.posixPermissions] as? Int) == 0o600)
        let purge = try cli(s, ["audit", "purge", "--before", "2020-01-01", "--archive", scratch + "/old.jsonl"], token: admin)
        #expect(purge.code == 0 && purge.out.contains("nothing was purged"), "\(purge.out) \(purge.err)")
        let alerts = try cli(s, ["audit", "alerts", "--set", "--operation", "create_user", "--digest-at", "07:00", "--json"], token: admin)
        #expect(alerts.code == 0 && alerts.out.contains("create_user"), "\(alerts.out) \(alerts.err)")

        let verified = try runCommand(bin, ["backup", "verify", file, "--data-dir", s.dataDir])
        #expect(verified.code == 0 && verified.out.contains("audit chain intact"), "\(verified.out) \(verified.err)")
        let otherKey = scratch + "/other.key"
        #expect(try runCommand("/bin/sh", ["-c", "umask 077; printf 'custody-master-key-v1\\n%s\\n' $(head -c 32 /dev/urandom | base64) > \(otherKey)"]).code == 0)
        let wrong = try runCommand(bin, ["backup", "verify", file, "--master-key-file", otherKey])
        #expect(wrong.code == 1 && wrong.err.contains("not the one this backup was made with"), "\(wrong.err)")

        // The off-site form: a passphrase, carrying the key.
        let phrase = scratch + "/phrase"
        FileManager.default.createFile(atPath: phrase, contents: Data("a long off-site passphrase\n".utf8), attributes: [.posixPermissions: 0o600])
        let offsite = scratch + "/offsite.custody-backup"
        let sealed = try runCommand(bin, ["backup", "create", "--data-dir", s.dataDir, "--out", offsite, "--passphrase-file", phrase, "--include-master-key"])
        #expect(sealed.code == 0 && sealed.out.contains("carries the master key"), "\(sealed.out) \(sealed.err)")

        let restored = scratch + "/restored"
        let r = try runCommand(bin, ["backup", "restore", offsite, "--data-dir", restored, "--passphrase-file", phrase])
        #expect(r.code == 0 && r.out.contains("audit chain intact"), "\(r.out) \(r.err)")
        #expect(FileManager.default.fileExists(atPath: restored + "/tls/server.key") && FileManager.default.fileExists(atPath: restored + "/master.key"))
        s.stop()
        let second = ServerProcess(dataDir: restored)
        #expect(try second.start(), "the restored server did not start: \(second.stderr)")
        defer { second.stop() }
        let token = try #require(try json(try cli(second, ["login", "--username", "admin", "--json"], stdin: "Cli-Keeper-Pass-1\n"))["token"] as? String)
        let got = try cli(second, ["password", "get", "--resource", rid, "--account", aid], token: token)
        #expect(got.code == 0 && got.out.contains("Dba-Backup-Pass-1"), "\(got.out) \(got.err)")
    }
}
