import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// The PostgreSQL plugin against a real server. After every case `psql` says which password logs
/// in, and the server's statement log never holds a password.
@Suite(.needs("PostgreSQL (root needed)", PostgresServer.available), .serialized) struct PostgresPluginTests {
    typealias S = PostgresServer
    let plugin = PostgresPlugin()

    func job(_ role: String, current: String?, new: String? = nil, admin: (String, String)? = (S.admin, S.adminPassword),
        tls: String? = "none", port: Int = S.port) -> ResetJob
    {
        ResetJob(operation: new == nil ? .verify : .reset, resource: ["RESOURCENAME": "pg", "IPADDRESS": "127.0.0.1"],
            account: ["LOGINNAME": role], currentPassword: current.map(Secret.init), newPassword: new.map(Secret.init),
            loginAccount: admin.map { ResetJob.Credential(loginName: $0.0, password: Secret($0.1)) },
            settings: ResetSettings(port: port, options: ["tls": tls, "caFile": S.caFile].compactMapValues { $0 }, connectTimeout: 5))
    }

    @Test(arguments: ["none", "verify", nil])
    func changeThenVerifyWithNoPasswordInTheServerLog(tls: String?) async throws {
        let name = "p_\(tls ?? "default")"
        S.role(name, password: "Start-Pass-123")
        let new = "Next-Pass-\(tls ?? "default")-456"
        _ = try await plugin.reset(job(name, current: "Start-Pass-123", new: new, tls: tls))
        try await plugin.verify(job(name, current: new, tls: tls))
        #expect(S.passwordWorks(name, new) && !S.passwordWorks(name, "Start-Pass-123"))
        let log = S.log
        #expect(log.contains("SCRAM-SHA-256$4096:") && !log.contains(new), "the server saw a verifier, never the password")
    }

    @Test func theRoleChangesItsOwnPassword() async throws {
        S.role("p_self", password: "Start-Pass-123")
        _ = try await plugin.reset(job("p_self", current: "Start-Pass-123", new: "Self-Pass-456", admin: nil))
        #expect(S.passwordWorks("p_self", "Self-Pass-456"))
    }

    @Test func aWrongAdminPasswordIsAnAuthenticationFailure() async throws {
        S.role("p_badadmin", password: "Start-Pass-123")
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("p_badadmin", current: "x", new: "Next-Pass-456", admin: (S.admin, "Wrong-Admin-1")))
        }
        #expect(e?.code == .authenticationFailed && e?.message.contains("Wrong-Admin-1") == false, "\(String(describing: e))")
        #expect(S.passwordWorks("p_badadmin", "Start-Pass-123"))
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("p_badadmin", current: "Not-It-1")) }?.code
            == .authenticationFailed)
    }

    @Test func aServerDownIsUnreachable() async throws {
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("x", current: "y", port: 1)) }?.code == .unreachable)
    }

    @Test func anAdminWithoutTheRightIsPermissionDenied() async throws {
        S.role("p_weak", password: "Weak-Admin-123")
        S.role("p_target", password: "Start-Pass-123")
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("p_target", current: "x", new: "Next-Pass-456", admin: ("p_weak", "Weak-Admin-123")))
        }
        #expect(e?.code == .permissionDenied, "\(String(describing: e))")
        #expect(S.passwordWorks("p_target", "Start-Pass-123"))
    }

    @Test(arguments: ["verify", "required", nil])
    func aWrongCAIsRefused(tls: String?) async throws {
        S.role("p_ca", password: "Start-Pass-123")
        var j = job("p_ca", current: "Start-Pass-123", tls: tls)
        j.settings.options["caFile"] = "/etc/ssl/certs/ca-certificates.crt"
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(j) }?.code == .unreachable)
        j.settings.options["tlsVerify"] = "false"
        try await plugin.verify(j)
    }

    @Test func hostilePasswordsAndRoleNames() async throws {
        for role in ["p_hostile", #"p "odd" Role"#] {
            S.role(role, password: "Start-Pass-123")
            var current = "Start-Pass-123"
            for pw in [#"Quote'Dbl"Back\slash1"#, "Per%cent_Under;Semi1", "Pässwörd-Ü1-密码", #"'; DROP ROLE x; --"#] {
                _ = try await plugin.reset(job(role, current: current, new: pw))
                #expect(S.passwordWorks(role, pw), "\(role): \(pw.count) characters")
                try await plugin.verify(job(role, current: pw))
                current = pw
            }
            // SASLprep would change these, and postgres-nio logs in without it: refused before anything is sent.
            for pw in ["ｆｕｌｌｗｉｄｔｈ-Ⅻ-ﬁ", "no\u{A0}break-Space1"] {
                let e = await failure { () throws(ResetFailure) in _ = try await plugin.reset(job(role, current: current, new: pw)) }
                #expect(e?.code == .unsupported, "\(String(describing: e))")
                #expect(S.passwordWorks(role, current))
            }
        }
    }

    @Test func aStatementThatHangsIsKilledAtTheDeadlineAsOutcomeUnknown() async throws {
        S.role("p_hang", password: "Start-Pass-123")
        // Another session holds the role's row: our ALTER ROLE waits behind it.
        S.hold("BEGIN; ALTER ROLE p_hang CONNECTION LIMIT 5; SELECT pg_sleep(8); COMMIT;")
        #expect(await eventually(seconds: 10) { S.value("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == "1" },
            "the other session holds the role's row")
        var j = job("p_hang", current: "Start-Pass-123", new: "Next-Pass-456")
        j.settings.promptTimeout = 2
        j.exposure = ResetExposure()
        let e = await failure { [j] () throws(ResetFailure) in _ = try await plugin.reset(j) }
        #expect(e?.code == .promptTimeout && e?.message.contains("no answer within 2 s") == true, "\(String(describing: e))")
        #expect(j.exposure?.reached == true, "the statement was sent: the state machine makes this outcome unknown")
    }

    @Test func anUnknownTLSModeIsRefusedNotDowngraded() async throws {
        let e = await failure { () throws(ResetFailure) in try await plugin.verify(job("x", current: "y", tls: "ldaps")) }
        #expect(e?.code == .unsupported)
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("x", current: "")) }?.code == .unsupported)
    }


    @Test func theVerifierMatchesPostgresOwnForTheRFCVector() {
        // RFC 7677's example: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
        let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
        let v = SCRAMVerifier.make(Secret("pencil"), salt: salt)
        #expect(v == "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")
    }
}
