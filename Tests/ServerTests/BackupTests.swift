import Foundation
import GRDB
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Backups made by the server (`POST /backups`, the schedule) and read back by the offline code
/// the CLI runs: restored into a new directory, the vault opens with its key, every password and
/// the audit chain are intact; a damaged, cut or foreign file and a wrong key are refused.
@Suite struct BackupTests {
    static let password = "Backup-Pass-7741!"

    /// A vault with one account and a backup of it made through the API; returns the file.
    static func vaultWithBackup(_ h: Harness, _ api: API) async throws -> (admin: String, rid: String, aid: String, file: String) {
        let admin = try await api.admin()
        let rid = try await api.resource("db-backup", token: admin)
        let aid = try await api.account(rid, "svc_backup", password: password, token: admin)
        let made = try await api.call(.post, "/backups", token: admin)
        #expect(made.status == .created, "\(made.text)")
        let name = try #require(made.object["name"] as? String)
        #expect(made.object["mode"] as? String == "masterKey")
        return (admin, rid, aid, h.custody.config.resolvedBackupDir + "/" + name)
    }

    static func scratch(_ tag: String) -> String { TestTargets.scratchURL.appendingPathComponent("\(tag)-\(UUID().uuidString)").path }

    @Test func aBackupRestoresIntoAVaultWhosePasswordsAndAuditChainAreIntact() async throws {
        let h = try await Harness.make()
        let (rid, aid, file) = try await h.run { api in
            let (admin, rid, aid, file) = try await Self.vaultWithBackup(h, api)
            let audit = try await api.call(.get, "/audit?limit=5", token: admin).array
            #expect(audit.contains { $0["operation"] as? String == "create_backup" && $0["outcome"] as? String == "success" }, "\(audit)")
            return (rid, aid, file)
        }
        let raw = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(raw.range(of: Data(Self.password.utf8)) == nil, "no password in clear in the file")
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        let restored = Self.scratch("restored")
        let r = try await Blocking.run { try BackupFiles.restore(file, into: restored, masterKey: key, passphrase: nil) }
        let check = try #require(r.check)
        #expect(check.ok && check.counts.accounts == 1 && check.sealedChecked >= 3 && check.audit.checked > 3, "\(check)")
        #expect(r.entries == ["custody.sqlite", "manifest.json"], "no master key unless asked (TLS files: none in process)")
        let db = try Data(contentsOf: URL(fileURLWithPath: restored + "/custody.sqlite"))
        #expect(db.range(of: Data(Self.password.utf8)) == nil, "the database holds sealed values only")
        #expect(!FileManager.default.fileExists(atPath: restored + "/.restoring"))
        // The restored directory runs as a server with the same key and gives the same password.
        try FileManager.default.copyItem(atPath: h.custody.config.resolvedMasterKeyFile, toPath: restored + "/master.key")
        let again = try await Harness.make(dataDir: restored)
        try await again.run { api in
            let login = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
            let token = try #require(login.object["token"] as? String, "\(login.text)")
            let pw = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password?reason=restore", token: token)
            #expect(pw.object["password"] as? String == Self.password, "\(pw.text)")
            let audit = try await api.call(.get, "/audit?accountId=\(aid)", token: token).array
            #expect(audit.contains { $0["operation"] as? String == "create_account" }, "\(audit)")
        }
        let verified = try await again.custody.sqlite!.read { try AuditVerifier.verify($0) }
        #expect(verified.ok)
    }

    @Test func aDamagedCutOrForeignBackupAndAWrongKeyAreRefused() async throws {
        let h = try await Harness.make()
        let (_, _, _, file) = try await h.run { api in try await Self.vaultWithBackup(h, api) }
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        #expect(try await Blocking.run { try BackupFiles.verify(file, masterKey: key, passphrase: nil) }.check?.ok == true)
        let raw = try Data(contentsOf: URL(fileURLWithPath: file))
        func refused(_ bytes: Data, key: MasterKey? = nil) -> BackupError.Code? {
            let path = Self.scratch("bad") + ".custody-backup"
            FileManager.default.createFile(atPath: path, contents: bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try BackupFiles.verify(path, masterKey: key ?? (try? MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)), passphrase: nil)
                return nil
            } catch let e as BackupError { return e.code } catch { return .io }
        }
        var flipped = raw
        flipped[raw.count / 2] ^= 0x40
        #expect(refused(flipped) == .damaged, "a flipped bit in a frame")
        #expect(refused(raw.prefix(raw.count - 100)) == .damaged, "cut inside the last frame")
        #expect(refused(raw + Data([0, 0, 0, 40]) + Data(repeating: 7, count: 40)) == .damaged, "bytes after the end")
        var header = raw
        let at = try #require(raw.range(of: Data("\"store\":\"sqlite\"".utf8)))
        header.replaceSubrange(at, with: Data("\"store\":\"sqlitf\"".utf8))
        #expect(refused(header) == .wrongKey || refused(header) == .damaged, "an altered header")
        #expect(refused(Data("not a backup at all".utf8)) == .notABackup)
        #expect(refused(raw, key: MasterKey.generate()) == .wrongKey)
        // A restore that fails leaves the target as it found it.
        let target = Self.scratch("target")
        await #expect(throws: BackupError.self) { try await Blocking.run { try BackupFiles.restore(file, into: target, masterKey: MasterKey.generate(), passphrase: nil) } }
        #expect(!FileManager.default.fileExists(atPath: target))
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: target + "/keep.txt", contents: Data("mine".utf8))
        let notEmpty = await #expect(throws: BackupError.self) { try await Blocking.run { try BackupFiles.restore(file, into: target, masterKey: key, passphrase: nil) } }
        #expect(notEmpty?.code == .badInput)
        #expect(try String(contentsOfFile: target + "/keep.txt", encoding: .utf8) == "mine")
    }

    @Test func aPassphraseBackupCarriesTheMasterKeyOnlyWhenAskedAndRestoresWithoutIt() async throws {
        let h = try await Harness.make()
        let (_, rid, aid, _) = try await h.run { api in try await Self.vaultWithBackup(h, api) }
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        #expect(throws: BackupError.self) { try BackupMaker(masterKey: key, passphrase: nil, includesMasterKey: true, store: "sqlite", at: Date()) }
        let phrase = Secret("correct horse battery staple")
        let maker = try BackupMaker(masterKey: key, passphrase: phrase, includesMasterKey: true, store: "sqlite", at: Date())
        let snapshot = Self.scratch("snap")
        try SQLiteBackupStore.copy(h.custody.sqlite!.db, to: snapshot) { _ in }
        var sources = BackupSources.of(h.custody.config, configFile: nil)
        sources.masterKey = h.custody.config.resolvedMasterKeyFile
        let file = Self.scratch("offsite") + ".custody-backup"
        _ = try maker.write(to: file, database: snapshot, counts: try SQLiteBackupFile.counts(path: snapshot), sources: sources)
        let wrong = await #expect(throws: BackupError.self) { try await Blocking.run { try BackupFiles.verify(file, masterKey: nil, passphrase: Secret("not the passphrase!")) } }
        #expect(wrong?.code == .wrongKey)
        let restored = Self.scratch("restored")
        let r = try await Blocking.run { try BackupFiles.restore(file, into: restored, masterKey: nil, passphrase: phrase) }
        #expect(r.check?.ok == true && r.entries.contains("master.key"))
        let mode = try FileManager.default.attributesOfItem(atPath: restored + "/master.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try await Harness.make(dataDir: restored)
        try await again.run { api in
            let token = try #require(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword]).object["token"] as? String)
            #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: token).object["password"] as? String == Self.password)
        }
    }

    @Test func onlySuperAdministratorsMakeOrListBackups() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let plainAdmin = try await api.user("plain-admin", role: "administrator", adminToken: admin)
            let pwAdmin = try await api.user("pw-admin", role: "passwordAdministrator", adminToken: admin)
            for token in [plainAdmin, pwAdmin] {
                #expect(try await api.call(.post, "/backups", token: token).status == .forbidden)
                #expect(try await api.call(.get, "/backups", token: token).status == .forbidden)
            }
            #expect(try await api.call(.post, "/backups", token: admin).status == .created)
            let list = try await api.call(.get, "/backups", token: admin).array
            #expect(list.count == 1 && list.first?["trigger"] as? String == "manual", "\(list)")
        }
    }

    @Test func scheduledBackupsRunDailyKeepTheNewestAndAFailureIsAuditedAndNotified() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock, configure: { cfg in
            cfg.backupSchedule = "daily 02:00"
            cfg.backupKeep = 2
        })
        try await h.run { api in
            let admin = try await api.admin()
            try await api.call(.patch, "/users/\(try #require(try await api.call(.get, "/users", token: admin).array.first?["id"] as? String))",
                token: admin, json: ["email": "root@example.test"])
            let saved = try await api.call(.put, "/settings/notifications", token: admin, json: [
                "smtp": ["host": "127.0.0.1", "port": 1, "security": "none", "from": "custody@example.test"]])
            #expect(saved.status == .noContent, "\(saved.text)")
            let started = clock.now
            var made: [String] = []
            for _ in 0..<4 {
                #expect(try await h.custody.backups.runDue(startedAt: started) == nil || !made.isEmpty)
                clock.advance(86_400)
                if let b = try await h.custody.backups.runDue(startedAt: started) { made.append(b.name) }
                #expect(try await h.custody.backups.runDue(startedAt: started) == nil, "once a day")
            }
            #expect(made.count == 4)
            let kept = BackupInfo.list(h.custody.config.resolvedBackupDir).map(\.name)
            #expect(Set(kept) == Set(made.suffix(2)), "the newest two scheduled backups stay: \(kept)")
        }
        // A backup directory that cannot be made: the failure is audited and the super-administrator told.
        let broken = Self.scratch("not-a-dir")
        FileManager.default.createFile(atPath: broken, contents: Data())
        let failing = BackupService(store: SQLiteBackupStore(db: h.custody.sqlite!.db, notices: SQLiteNotices(vault: h.custody.vault, now: { clock.now }, queued: {})),
            authorizer: Authorizer(), vault: h.custody.vault, settings: .init(dir: broken + "/backups"), logger: h.custody.logger, now: { clock.now })
        await #expect(throws: (any Error).self) { try await failing.make(trigger: .scheduled, user: "schedule", ip: "server") }
        let (failed, notices) = try await h.custody.sqlite!.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE operation = 'create_backup' AND outcome = 'failure'") ?? 0,
                try String.fetchAll(db, sql: "SELECT recipient FROM notifications WHERE event = 'backup_failed'"))
        }
        #expect(failed == 1 && notices == ["root@example.test"], "\(notices)")
    }

    @Test func theOnlineBackupIsOneInstantWhileWritersGoOn() async throws {
        let h = try await Harness.make()
        let file = try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("busy", token: admin)
            for i in 0..<20 { _ = try await api.account(rid, "svc\(i)", password: "Busy-Pass-\(i)-xyz!", token: admin) }
            // Writers append audit records while the backup runs.
            async let writes: Void = {
                for i in 0..<40 { _ = try await api.call(.get, "/resources/\(rid)/accounts?i=\(i)", token: admin) }
                for _ in 0..<20 { _ = try await api.call(.get, "/audit?limit=1", token: admin) }
            }()
            let made = try await api.call(.post, "/backups", token: admin)
            try await writes
            return h.custody.config.resolvedBackupDir + "/" + (try #require(made.object["name"] as? String, "\(made.text)"))
        }
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        let check = try #require(try await Blocking.run { try BackupFiles.verify(file, masterKey: key, passphrase: nil) }.check)
        #expect(check.ok && check.counts.accounts == 20 && check.sealedChecked >= 20, "\(check)")
    }

    @Test func aPassphraseAloneCannotForgeABackupThatTheMasterKeyAccepts() async throws {
        let h = try await Harness.make()
        _ = try await h.run { api in try await Self.vaultWithBackup(h, api) }
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        let phrase = Secret("a shared off-site passphrase")
        // The forger knows the passphrase, not the key: a copy of the vault with a new super-administrator.
        let snapshot = Self.scratch("forged-db")
        try SQLiteBackupStore.copy(h.custody.sqlite!.db, to: snapshot) { _ in }
        let q = try DatabaseQueue(path: snapshot)
        try await q.write { db in try db.execute(sql: "UPDATE users SET superAdmin = 1") }
        try q.close()
        let forged = Self.scratch("forged") + ".custody-backup"
        let forger = try BackupMaker(masterKey: nil, passphrase: phrase, includesMasterKey: false, store: "sqlite", at: Date())
        _ = try forger.write(to: forged, database: snapshot, counts: try SQLiteBackupFile.counts(path: snapshot), sources: BackupSources())
        let refused = await #expect(throws: BackupError.self) { try await Blocking.run { try BackupFiles.restore(forged, into: Self.scratch("forged-restore"), masterKey: key, passphrase: phrase) } }
        #expect(refused?.code == .verifyFailed, "\(String(describing: refused))")
        // The genuine one, sealed with the same passphrase by the vault's own key, restores.
        let genuine = Self.scratch("genuine") + ".custody-backup"
        let maker = try BackupMaker(masterKey: key, passphrase: phrase, includesMasterKey: false, store: "sqlite", at: Date())
        _ = try maker.write(to: genuine, database: snapshot, counts: try SQLiteBackupFile.counts(path: snapshot), sources: BackupSources())
        #expect(try await Blocking.run { try BackupFiles.verify(genuine, masterKey: key, passphrase: phrase) }.check?.ok == true)
    }

    @Test func filesBehindSymlinksAreCarriedWholeAndAFailingScheduleWaitsForItsNextTime() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        let dir = Self.scratch("links")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cert = String(repeating: "-----CERTIFICATE LINE-----\n", count: 200)
        FileManager.default.createFile(atPath: dir + "/real.crt", contents: Data(cert.utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/live.crt", withDestinationPath: dir + "/real.crt")
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        let snapshot = Self.scratch("snap")
        try SQLiteBackupStore.copy(h.custody.sqlite!.db, to: snapshot) { _ in }
        let file = Self.scratch("linked") + ".custody-backup"
        let maker = try BackupMaker(masterKey: key, passphrase: nil, includesMasterKey: false, store: "sqlite", at: Date())
        _ = try maker.write(to: file, database: snapshot, counts: try SQLiteBackupFile.counts(path: snapshot),
            sources: BackupSources(tlsCertificate: dir + "/live.crt"))
        let restored = Self.scratch("linked-restore")
        _ = try await Blocking.run { try BackupFiles.restore(file, into: restored, masterKey: key, passphrase: nil) }
        #expect(try String(contentsOfFile: restored + "/tls/server.crt", encoding: .utf8) == cert)

        let broken = Self.scratch("not-a-dir")
        FileManager.default.createFile(atPath: broken, contents: Data())
        var schedule = BackupService.Settings(dir: broken + "/backups")
        schedule.schedule = BackupSchedule.parse("daily 02:00") ?? nil
        let failing = BackupService(store: SQLiteBackupStore(db: h.custody.sqlite!.db, notices: SQLiteNotices(vault: h.custody.vault, now: { clock.now }, queued: {})),
            authorizer: Authorizer(), vault: h.custody.vault, settings: schedule, logger: h.custody.logger, now: { clock.now })
        let started = clock.now
        clock.advance(86_400)
        await #expect(throws: (any Error).self) { try await failing.runDue(startedAt: started) }
        for _ in 0..<3 { #expect(try await failing.runDue(startedAt: started) == nil, "no retry before the next scheduled time") }
        clock.advance(86_400)
        await #expect(throws: (any Error).self) { try await failing.runDue(startedAt: started) }
        let failures = try await h.custody.sqlite!.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE operation = 'create_backup' AND outcome = 'failure'") ?? 0
        }
        #expect(failures == 2)
    }
}
