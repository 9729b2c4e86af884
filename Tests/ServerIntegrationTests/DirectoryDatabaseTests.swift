import Foundation
import GRDB
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// LDAP, Active Directory (a Windows Domain resource on a Samba DC), MariaDB and PostgreSQL end to end through the task engine: a reset and a verify, and a
/// reset interrupted after the statement was sent, reconciled at restart. The servers' own
/// clients confirm which password works.
@Suite struct DirectoryDatabaseTests {
    enum Kind: String, CaseIterable, Sendable { case ldap, ad, mysql, postgresql }

    struct Target: Sendable {
        let type, login, admin, adminPassword: String
        let options: [String: String]
        let port: Int?
        var host = "127.0.0.1"
        let works: @Sendable (String) -> Bool
    }

    /// A fresh account on the kind's real server, starting with `password`.
    static func target(_ kind: Kind, _ name: String, _ password: String) -> Target? {
        switch kind {
        case .ldap:
            guard LDAPServer.available else { return nil }
            let dn = LDAPServer.user(name, password: password)
            return Target(type: "LDAP Server", login: dn, admin: LDAPServer.adminDN, adminPassword: LDAPServer.adminPassword,
                options: ["tls": "starttls", "caFile": LDAPServer.caFile], port: LDAPServer.port) { LDAPServer.passwordWorks(dn, $0) }
        case .ad:
            guard SambaDC.ready.available else { return nil }
            SambaDC.user(name, password: password)
            // No port, tls or ldapType: a Windows Domain resource is AD over LDAPS by default.
            var t = Target(type: "Windows Domain", login: name, admin: SambaDC.resetAdmin.name, adminPassword: SambaDC.resetAdmin.password,
                options: ["caFile": SambaDC.caFile], port: nil) { SambaDC.passwordIs(name, $0) }
            t.host = SambaDC.host
            return t
        case .mysql:
            guard MariaDBServer.available else { return nil }
            MariaDBServer.user(name, password: password)
            return Target(type: "MySQL Server", login: name, admin: MariaDBServer.admin, adminPassword: MariaDBServer.adminPassword,
                options: ["hostPart": "%", "caFile": MariaDBServer.caFile], port: MariaDBServer.port) { MariaDBServer.passwordWorks(name, $0) }
        case .postgresql:
            guard PostgresServer.available else { return nil }
            PostgresServer.role(name, password: password)
            return Target(type: "PostgreSQL Server", login: name, admin: PostgresServer.admin, adminPassword: PostgresServer.adminPassword,
                options: ["database": "postgres", "caFile": PostgresServer.caFile], port: PostgresServer.port) { PostgresServer.passwordWorks(name, $0) }
        }
    }

    /// A resource of the target's type with its admin and the account; returns (admin token, rid, aid).
    static func setup(_ api: API, _ t: Target) async throws -> (String, String, String) {
        let admin = try await api.admin()
        let rid = try await api.resource("db-\(UUID().uuidString.prefix(6))", token: admin, type: t.type)
        try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["dnsName": t.host])
        _ = try await api.account(rid, t.admin, password: t.adminPassword, token: admin)
        let aid = try await api.account(rid, t.login, password: "Start-Pass-123", token: admin)
        var config: [String: Any] = ["mode": "agentless", "loginAccount": t.admin, "options": t.options]
        if let port = t.port { config["port"] = port }
        let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: config)
        #expect(cfg.status == .ok, "\(cfg.text)")
        return (admin, rid, aid)
    }

    /// As root (as `make test` runs) the servers must start; elsewhere these tests cannot run.
    static func missing(_ kind: Kind) {
        if getuid() == 0 { Issue.record("the \(kind) test server did not start") }
    }

    static func stored(_ api: API, _ admin: String, _ rid: String, _ aid: String) async throws -> String {
        try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String)
    }

    @Test(arguments: Kind.allCases)
    func aRemoteResetAndAVerifyThroughTheEngine(kind: Kind) async throws {
        guard let t = Self.target(kind, "e2e_\(kind.rawValue)", "Start-Pass-123") else { return Self.missing(kind) }
        try await Harness.make().run { api in
            let (admin, rid, aid) = try await Self.setup(api, t)
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
            let task = try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: admin)
            #expect(task["state"] as? String == "succeeded", "\(kind): \(task)")
            let now = try await Self.stored(api, admin, rid, aid)
            #expect(now != "Start-Pass-123" && t.works(now) && !t.works("Start-Pass-123"), "\(kind)")
            let v = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: admin)
            let verified = try await Fixtures.waitTask(api, try #require(v.object["taskId"] as? String), token: admin)
            #expect(verified["state"] as? String == "succeeded", "\(kind): \(verified)")
        }
    }

    @Test(arguments: Kind.allCases)
    func aResetInterruptedAfterTheStatementIsReconciledAtRestart(kind: Kind) async throws {
        guard let t = Self.target(kind, "crash_\(kind.rawValue)", "Start-Pass-123") else { return Self.missing(kind) }
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-dbcrash-\(UUID().uuidString)").path
        let crashing = try await Harness.make(dataDir: dir, crashAfterReset: { _ in true })
        let (admin, rid, aid, tid) = try await crashing.run { api -> (String, String, String, String) in
            let (admin, rid, aid) = try await Self.setup(api, t)
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
            let tid = try #require(q.object["taskId"] as? String)
            for _ in 0..<100 where t.works("Start-Pass-123") { try await Task.sleep(for: .milliseconds(100)) }
            return (admin, rid, aid, tid)
        }
        #expect(!t.works("Start-Pass-123"), "\(kind): the statement ran before the crash")
        #expect(try await crashing.custody.store.read { try TaskRecord.fetchOne($0, key: tid) }?.phase == .changing)
        try await Harness.make(dataDir: dir).run { api in
            let task = try await Fixtures.waitTask(api, tid, token: admin)
            #expect(task["state"] as? String == "succeeded", "\(kind): \(task)")
            let stored = try await Self.stored(api, admin, rid, aid)
            #expect(stored != "Start-Pass-123" && t.works(stored), "\(kind): the vault holds the password that works")
        }
    }

    @Test func badDirectoryAndDatabaseOptionsAreRefused() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("opts", token: admin, type: "LDAP Server")
            for (options, what) in [(["ldapType": "novell"], "ldapType"), (["tls": "maybe"], "tls"), (["caFile": "relative.pem"], "caFile"),
                (["caFile": "/no/such/ca.pem"], "caFile"), (["hostPart": ""], "hostPart"), (["tlsVerify": "no"], "tlsVerify")] as [([String: String], String)] {
                let r = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "options": options])
                #expect(r.status == .badRequest && r.text.contains(what), "\(options): \(r.text)")
            }
            #expect(try await api.call(.get, "/resources/\(rid)/reset-config", token: admin).status == .notFound)
        }
    }

    /// Passwords in clear, or a certificate not checked, only when asked for: the API answers with a
    /// warning and the audit records it; the secure default answers none.
    @Test func plaintextAndUnverifiedTLSAreWarnedAndAudited() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("tls-\(UUID().uuidString.prefix(6))", token: admin, type: "MySQL Server")
            for (options, warned) in [([String: String](), nil), (["tls": "none"], "in clear"), (["tlsVerify": "false"], "any certificate")] {
                let r = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "options": options])
                #expect(r.status == .ok, "\(r.text)")
                let warnings = try #require(r.object["warnings"] as? [String], "\(r.text)")
                let audit = try await api.call(.get, "/audit?operation=set_reset_config&limit=1", token: admin).array.first?["message"] as? String ?? ""
                if let warned {
                    #expect(warnings.count == 1 && warnings[0].contains(warned), "\(options): \(warnings)")
                    #expect(audit.contains("warning") && audit.contains(warned), "\(audit)")
                } else {
                    #expect(warnings.isEmpty && !audit.contains("warning"), "\(warnings) \(audit)")
                }
            }
        }
    }
}
