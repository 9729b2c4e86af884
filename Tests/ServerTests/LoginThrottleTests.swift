import Foundation
import GRDB
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// Failed logins cost little: the throttle refuses in memory, before bcrypt and before any write,
/// per address, per name at an address and per name everywhere; a correct login from another
/// address still gets in.
@Suite struct LoginThrottleTests {
    func attempt(_ h: Harness, _ name: String, _ password: String, from ip: String) async -> String {
        do {
            _ = try await h.custody.identity.login(username: name, password: Secret(password), ip: ip)
            return "ok"
        } catch let e as DomainError {
            return e.code
        } catch {
            return "\(error)"
        }
    }

    func rows(_ h: Harness, _ sql: String) async throws -> Int {
        try await h.custody.store.read { try Int.fetchOne($0, sql: sql) } ?? -1
    }

    @Test func parallelGuessesFromOneAddressAreRefusedBeforeBcryptAndAnotherAddressGetsIn() async throws {
        let h = try await Harness.make()
        try await h.run { api in _ = try await api.admin() }
        let codes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<60 { group.addTask { await attempt(h, "admin", "wrong-guess-1", from: "203.0.113.9") } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        // In-flight attempts count: no more than the threshold reached bcrypt, however parallel.
        #expect(codes.filter { $0 == "invalid_credentials" }.count == h.custody.config.lockoutThreshold, "\(codes)")
        #expect(codes.filter { $0 == "account_locked" }.count == 60 - h.custody.config.lockoutThreshold)
        #expect(try await rows(h, "SELECT count(*) FROM loginFailures") == h.custody.config.lockoutThreshold, "refusals write nothing")
        #expect(try await rows(h, "SELECT count(*) FROM audit WHERE operation = 'login' AND outcome = 'failure'") == 5)
        #expect(try await rows(h, "SELECT count(*) FROM audit WHERE operation = 'login' AND outcome = 'locked'") == 1)
        #expect(await attempt(h, "admin", API.adminPassword, from: "203.0.113.9") == "account_locked", "locked at that address")
        #expect(await attempt(h, "admin", API.adminPassword, from: "198.51.100.7") == "ok", "another address is not locked out")
    }

    @Test func oneAddressTryingManyNamesIsRefusedWithRetryAfter() async throws {
        let h = try await Harness.make()
        for i in 0..<h.custody.config.loginAddressLimit {
            #expect(await attempt(h, "nobody\(i)", "wrong-guess-1", from: "203.0.113.10") == "invalid_credentials")
        }
        do {
            _ = try await h.custody.identity.login(username: "someone-else", password: Secret("x"), ip: "203.0.113.10")
            Issue.record("the address limit let an attempt through")
        } catch let e as DomainError {
            #expect(e.status == .tooManyRequests && e.code == "too_many_attempts")
            #expect((1...(15 * 60)).contains(e.retryAfter ?? 0), "Retry-After \(e.retryAfter ?? -1)")
        }
        #expect(await attempt(h, "nobody0", "wrong-guess-1", from: "203.0.113.11") == "invalid_credentials", "other addresses go on")
    }

    /// The cap per name holds everywhere but where the name signed in lately, so guessing from many
    /// addresses does not shut its user out.
    @Test func aNameGuessedFromManyAddressesIsCappedButNotWhereItSignedIn() async throws {
        let h = try await Harness.make(configure: { $0.loginNameLimit = 8 })
        try await h.run { api in _ = try await api.admin() }
        #expect(await attempt(h, "admin", API.adminPassword, from: "198.51.100.7") == "ok")
        for i in 0..<8 { #expect(await attempt(h, "admin", "wrong-guess-1", from: "203.0.113.\(i)") == "invalid_credentials") }
        #expect(await attempt(h, "admin", API.adminPassword, from: "203.0.113.100") == "account_locked")
        #expect(await attempt(h, "admin", API.adminPassword, from: "198.51.100.7") == "ok", "its own address still signs in")
        // A restarted server knows that address from the audit trail.
        let restarted = Harness(custody: Custody(config: h.custody.config, store: h.custody.store, vault: h.custody.vault,
            logger: h.custody.logger), dataDir: h.dataDir)
        #expect(await attempt(restarted, "admin", "wrong-guess-1", from: "203.0.113.101") == "account_locked")
        #expect(await attempt(restarted, "admin", API.adminPassword, from: "198.51.100.7") == "ok")
    }

    @Test func ipv6AddressesCountByTheirSlash64() async throws {
        let h = try await Harness.make()
        for i in 1...5 { #expect(await attempt(h, "admin", "wrong-guess-1", from: "2001:db8:1:2::\(i)") == "invalid_credentials") }
        #expect(await attempt(h, "admin", "wrong-guess-1", from: "2001:db8:1:2:ffff::9") == "account_locked")
        #expect(await attempt(h, "admin", "wrong-guess-1", from: "2001:db8:1:3::1") == "invalid_credentials")
        #expect(LoginThrottle.network("2001:db8:1:2::5") == "2001:db8:1:2::/64" && LoginThrottle.network("203.0.113.5") == "203.0.113.5")
    }

    @Test func theWindowEndsFailuresArePrunedAndARestartKeepsTheLock() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in _ = try await api.admin() }
        for _ in 0..<5 { #expect(await attempt(h, "admin", "wrong-guess-1", from: "203.0.113.20") == "invalid_credentials") }
        // A server started on the same data reads the failures back.
        let restarted = Harness(custody: Custody(config: h.custody.config, store: h.custody.store, vault: h.custody.vault,
            logger: h.custody.logger, now: { clock.now }), dataDir: h.dataDir)
        #expect(await attempt(restarted, "admin", API.adminPassword, from: "203.0.113.20") == "account_locked")
        clock.advance(16 * 60)
        #expect(await attempt(restarted, "admin", "wrong-guess-2", from: "203.0.113.21") == "invalid_credentials")
        #expect(try await rows(h, "SELECT count(*) FROM loginFailures") == 1, "rows older than the window are pruned")
        #expect(await attempt(restarted, "admin", API.adminPassword, from: "203.0.113.20") == "ok")
        #expect(try await rows(h, "SELECT count(*) FROM loginFailures WHERE address = '203.0.113.20'") == 0)
    }

    @Test func aLockedLoginAnswers429WithRetryAfterOverHTTP() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            _ = try await api.admin()
            for _ in 0..<5 { _ = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": "wrong-guess"]) }
            let r = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": "wrong-guess"])
            #expect(r.status == .tooManyRequests && r.errorCode == "account_locked")
            #expect(Int(r.headers[.retryAfter] ?? "") ?? 0 > 0, "Retry-After: \(r.headers[.retryAfter] ?? "none")")
        }
    }
}
