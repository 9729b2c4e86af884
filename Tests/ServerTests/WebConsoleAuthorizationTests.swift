import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The console's authorization matrix: every page and form, for every role, is allowed or refused
/// exactly as the API route it calls; a refused form changes nothing.
@Suite struct WebConsoleAuthorizationTests {

    /// Console page → the API route it reads.
    static let pages: [(console: String, api: String)] = [
        ("/resources", "/resources"), ("/groups", "/groups"), ("/tasks", "/tasks"), ("/tokens", "/tokens"),
        ("/audit", "/audit"), ("/integrity", "/reports/integrity"), ("/agents", "/agents"), ("/listeners", "/listeners"),
        ("/users", "/users"), ("/access-requests", "/access-requests"), ("/reports", "/reports/inventory"),
        ("/reports/compliance.csv", "/reports/compliance"), ("/reports/activity.csv", "/reports/activity"),
    ]

    @Test func everyPageAndFormFollowsTheAPIForEveryRole() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let roles = ["administrator", "passwordAdministrator", "passwordUser", "passwordAuditor"]
            var tokens: [String: String] = [:]
            for role in roles { tokens[role] = try await api.user("m_\(role)", role: role, adminToken: admin) }
            var allowedSomewhere = Set<String>(), refusedSomewhere = Set<String>()
            for role in roles {
                let b = Browser(api.client)
                _ = try await b.signIn("m_\(role)", API.userPassword + "x")
                for (page, route) in Self.pages {
                    let viaAPI = try await api.call(.get, route, token: tokens[role]).status
                    let viaConsole = try await b.go(.get, page).status
                    #expect(viaConsole == (viaAPI == .ok ? .ok : viaAPI), "\(role) \(page): console \(viaConsole), API \(viaAPI)")
                    if viaAPI == .ok { allowedSomewhere.insert(page) } else { refusedSomewhere.insert(page) }
                }
                // Forms: a role the API refuses gets 403 from the console, with a valid CSRF token, and nothing is made.
                let csrf = Browser.csrf(try await b.go(.get, "/tokens").html)
                let name = "made_by_\(role)"
                let made = try await b.go(.post, "/users", form: ["_csrf": csrf, "username": name, "password": "First-Pass-2026!", "role": "passwordUser"])
                let exists = try await api.call(.get, "/users", token: admin).array.contains { $0["username"] as? String == name }
                #expect(role == "administrator" ? (made.status == .seeOther && exists) : (made.status == .forbidden && !exists), "\(role) POST /users")
                let group = try await b.go(.post, "/groups", form: ["_csrf": csrf, "name": "g_\(role)"])
                let viaAPI = try await api.call(.post, "/groups", token: tokens[role], json: ["name": "g2_\(role)"]).status
                #expect((group.status == .seeOther) == (viaAPI == .created), "\(role) POST /groups: console \(group.status), API \(viaAPI)")
            }
            // The matrix is not trivial: admin pages are refused to someone, and every page is open to someone.
            #expect(refusedSomewhere.isSuperset(of: ["/agents", "/listeners", "/users", "/audit", "/reports/activity.csv"]))
            #expect(allowedSomewhere == Set(Self.pages.map(\.console)))
        }
    }
}

/// Console sessions: a cookie's token is no bearer token, and a password change issues a new one.
@Suite struct WebSessionTests {

    @Test func aConsoleSessionIsNoBearerTokenAndAPasswordChangeRenewsIt() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            _ = try await api.user("web_sess", role: "passwordUser", adminToken: admin)
            let b = Browser(api.client)
            _ = try await b.signIn("web_sess", API.userPassword + "x")
            let first = try #require(b.cookies["__Host-custody_session"])
            #expect(try await api.call(.get, "/auth/me", token: first).status == .unauthorized, "the console's token is refused as a bearer token")
            // An API session token in the cookie is not a console session either.
            let apiToken = try #require(try await api.call(.post, "/auth/login", json: ["username": "web_sess", "password": API.userPassword + "x"])
                .object["token"] as? String)
            let other = Browser(api.client)
            other.cookies["__Host-custody_session"] = apiToken
            #expect(try await other.go(.get, "/resources").headers[.location] == "/login")
            let page = try await b.go(.get, "/password")
            let changed = try await b.go(.post, "/password", form: ["_csrf": Browser.csrf(page.html), "currentPassword": API.userPassword + "x",
                "newPassword": "Renewed-Pass-2026!", "confirmPassword": "Renewed-Pass-2026!"])
            #expect(changed.status == .seeOther && changed.headers[.location] == "/home")
            let second = try #require(b.cookies["__Host-custody_session"])
            #expect(second != first)
            #expect(try await b.go(.get, "/resources").status == .ok)
            let stale = Browser(api.client)
            stale.cookies["__Host-custody_session"] = first
            #expect(try await stale.go(.get, "/resources").headers[.location] == "/login", "the token from before the change is revoked")
            #expect(try await api.call(.get, "/auth/me", token: apiToken).status == .unauthorized, "other sessions end with the change")
        }
    }

    @Test func theIdleClockIsKeptInTheStore() async throws {
        try await Harness.make().run { api in
            _ = try await api.admin()
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            #expect(try await b.go(.get, "/resources").status == .ok)
            // As after a restart: only the store knows when the session was last used; 31 minutes ago is too long.
            let longAgo = api.harness.custody.now().addingTimeInterval(-31 * 60)
            try await api.harness.custody.store.write { db in
                try db.execute(sql: "UPDATE tokens SET lastUsedAt = ? WHERE kind = 'web'", arguments: [longAgo])
            }
            #expect(try await b.go(.get, "/resources").headers[.location] == "/login")
            let audit = try await api.harness.custody.store.read { db in
                try String.fetchAll(db, sql: "SELECT message FROM audit WHERE operation = 'logout'")
            }
            #expect(audit.contains("console session idle"))
        }
    }
}
