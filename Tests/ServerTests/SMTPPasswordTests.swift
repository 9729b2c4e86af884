import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// Trust II: the stored SMTP password is for one host and one user name; it is dropped when
/// either changes, so an administrator who points mail elsewhere never sends it to that server.
@Suite struct SMTPPasswordTests {
    @Test func theStoredPasswordIsDroppedWhenTheHostOrUserChanges() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            func save(_ host: String, _ user: String, password: String? = nil) async throws {
                var smtp: [String: Any] = ["host": host, "port": 587, "security": "starttls", "username": user, "from": "custody@example.test"]
                smtp["password"] = password
                let r = try await api.call(.put, "/settings/notifications", token: admin, json: ["smtp": smtp])
                #expect(r.status == .noContent, "\(r.text)")
            }
            func passwordSet() async throws -> Bool? {
                let s = try await api.call(.get, "/settings/notifications", token: admin).object
                return (s["smtp"] as? [String: Any])?["passwordSet"] as? Bool
            }
            try await save("mail.example.test", "custody", password: "Smtp-Secret-1")
            #expect(try await passwordSet() == true)
            try await save("mail.example.test", "custody")
            #expect(try await passwordSet() == true, "kept while host and user stay")
            try await save("evil.example.test", "custody")
            #expect(try await passwordSet() == false, "a new host drops it")
            try await save("mail.example.test", "custody", password: "Smtp-Secret-1")
            try await save("mail.example.test", "other")
            #expect(try await passwordSet() == false, "a new user name drops it")
            let channels = try await api.harness.custody.notificationSettings.store.channels()
            #expect(channels.smtp?.password == nil)
        }
    }
}
