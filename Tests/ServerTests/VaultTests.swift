import Foundation
import GRDB
import Logging
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

@Suite struct VaultTests {
    let logger = Logger(label: "test")

    @Test func sealedValuesOpenOnlyUnderTheirOwnIdentity() throws {
        let vault = Vault(masterKey: .generate())
        let sealed = try vault.seal(Secret("pa55"), identity: "custody.secret.v1|a|1")
        #expect(try vault.openSecret(sealed, identity: "custody.secret.v1|a|1").reveal() == "pa55")
        #expect(throws: VaultError.self) { try vault.open(sealed, identity: "custody.secret.v1|b|1") }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: VaultError.self) { try vault.open(tampered, identity: "custody.secret.v1|a|1") }
        let other = Vault(masterKey: .generate())
        #expect(throws: VaultError.self) { try other.open(sealed, identity: "custody.secret.v1|a|1") }
        // Two seals of one value differ (fresh nonce).
        #expect(try vault.seal(Secret("pa55"), identity: "x") != vault.seal(Secret("pa55"), identity: "x"))
    }

    @Test func aCiphertextCopiedToAnotherRowFailsItsIntegrityCheck() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("db01", token: admin)
            let a1 = try await api.account(rid, "alice", password: "Alice-Pass-1", token: admin)
            let a2 = try await api.account(rid, "bob", password: "Bob-Pass-2", token: admin)
            try await h.custody.store.write { db in
                let sealed = try Data.fetchOne(db, sql: "SELECT sealed FROM secrets WHERE accountId = ?", arguments: [a1])
                try db.execute(sql: "UPDATE secrets SET sealed = ? WHERE accountId = ?", arguments: [sealed, a2])
            }
            let r = try await api.call(.get, "/resources/\(rid)/accounts/\(a2)/password", token: admin)
            #expect(r.status == .internalServerError)
            #expect(!r.text.contains("Alice-Pass-1"))
            #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(a1)/password", token: admin).object["password"] as? String == "Alice-Pass-1")
        }
    }

    @Test func theServerRefusesAnExposedMissingOrWrongKey() async throws {
        let h = try await Harness.make()
        let keyPath = h.custody.config.resolvedMasterKeyFile
        chmod(keyPath, 0o644)
        await #expect { _ = try await Bootstrap.open(h.custody.config, logger: logger) } throws: { ($0 as? VaultError)?.code == .keyPermissions }
        chmod(keyPath, 0o600)
        let saved = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        try FileManager.default.removeItem(atPath: keyPath)
        await #expect { _ = try await Bootstrap.open(h.custody.config, logger: logger) } throws: { ($0 as? VaultError)?.code == .keyMissing }
        try MasterKey.generate().write(to: keyPath)
        await #expect { _ = try await Bootstrap.open(h.custody.config, logger: logger) } throws: { ($0 as? VaultError)?.code == .wrongKey }
        try FileManager.default.removeItem(atPath: keyPath)
        FileManager.default.createFile(atPath: keyPath, contents: saved, attributes: [.posixPermissions: 0o600])
        _ = try await Bootstrap.open(h.custody.config, logger: logger)
    }

    @Test func aVaultWhoseCanaryWasWipedIsNotTakenForANewOne() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            _ = try await api.account(try await api.resource("x", token: admin), "root", password: "Root-Pass-1", token: admin)
        }
        try await h.custody.store.write { try $0.execute(sql: "DELETE FROM vaultMeta WHERE key = 'canary'") }
        await #expect { _ = try await Bootstrap.open(h.custody.config, logger: logger) } throws: { ($0 as? VaultError)?.code == .integrity }
    }

    /// A rotation cut at any step leaves a vault that opens (with the old key or the new one) and reads every password.
    @Test(arguments: [KeyRotation.Step.newKeyWritten, .midReencrypt, .committed, .renamed, nil])
    func keyRotationSurvivesAnInterruptionAtEveryStep(failAt: KeyRotation.Step?) async throws {
        let h = try await Harness.make()
        let accounts = try await h.run { api -> [(String, String, String)] in
            var accounts: [(String, String, String)] = []
            let admin = try await api.admin()
            let rid = try await api.resource("host", token: admin)
            for i in 0..<6 {
                let pw = "Password-\(i)-\(UUID().uuidString)"
                accounts.append((rid, try await api.account(rid, "user\(i)", password: pw, token: admin), pw))
            }
            try await api.call(.put, "/settings/notifications", token: admin, json: ["smtp": ["host": "mail.example.test",
                "security": "tls", "username": "mailer", "password": "Smtp-Pass-1", "from": "custody@example.test"]])
            return accounts
        }
        let keyPath = h.custody.config.resolvedMasterKeyFile
        let before = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        let rotation = KeyRotation(store: h.custody.store, keyPath: keyPath, failAt: failAt)
        if failAt == nil {
            #expect(try rotation.run(current: h.custody.vault).rotated == 6)
        } else {
            #expect(throws: KeyRotation.Injected.self) { try rotation.run(current: h.custody.vault) }
        }
        let reopened = try await Bootstrap.open(h.custody.config, logger: logger)
        let after = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        #expect(!FileManager.default.fileExists(atPath: keyPath + ".new"))
        #expect(!FileManager.default.fileExists(atPath: keyPath + ".old"))
        #expect(try await reopened.store.read { try AuditVerifier.verify($0) }.ok, "the audit key must survive the rotation")
        // Before the commit the old key stays; from the commit on, the new key takes over.
        #expect((before == after) == (failAt == .newKeyWritten || failAt == .midReencrypt))
        for (_, aid, pw) in accounts {
            let current = try await reopened.store.read { db in try reopened.secrets.current(account: aid, db) }
            #expect(current?.reveal() == pw)
        }
        let smtp = try await reopened.notificationSettings.store.channels().smtp
        #expect(smtp?.password?.reveal() == "Smtp-Pass-1", "the sealed SMTP password follows the key")
    }
}
