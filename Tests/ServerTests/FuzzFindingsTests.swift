import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// What an outside fuzzer (schemathesis, over the OpenAPI document) found, each kept fixed: ids are
/// compared whole, nested typos are refused, valid times and filters are read as the document says.
@Suite struct FuzzFindingsTests {
    @Test func pathsBodiesAndFiltersAreReadAsTheDocumentSays() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("fuzz-host", token: admin)
            // An id with a NUL after it is not the id (SQLite reads bound text only up to a NUL).
            for path in ["/resources/\(rid)%00anything", "/resources/\(rid)%0A", "/users/x%00", "/resources/\(rid)%00/accounts/%FF"] {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_path", "\(path): \(r.status) \(r.text)")
            }
            #expect(try await api.call(.get, "/resources/\(rid)", token: admin).status == .ok)

            // A typo in a nested object is refused and changes nothing.
            let typo = try await api.call(.put, "/notifications/events/password_expired", token: admin,
                json: ["email": true, "recipients": ["usersWithAcess": true]])
            #expect(typo.status == .badRequest && typo.errorCode == "unknown_field" && typo.text.contains("recipients.usersWithAcess"), "\(typo.text)")
            let gid = try #require(try await api.call(.post, "/groups", token: admin, json: ["name": "fuzz-g", "resourceIds": [rid]]).object["id"]
                as? String)
            let rotation = try await api.call(.put, "/groups/\(gid)/rotation", token: admin,
                json: ["schedule": ["kind": "days", "at": "02:00", "everyDays": 7, "timezone": "UTC"], "passwordChoice": "unique"])
            #expect(rotation.status == .badRequest && rotation.text.contains("schedule.timezone"), "\(rotation.text)")
            #expect(try await api.call(.get, "/groups/\(gid)/rotation", token: admin).status == .notFound, "nothing saved")
            let shares = try await api.call(.put, "/resources/\(rid)/shares", token: admin,
                json: ["users": [["username": "admin", "permission": "view", "until": "never"]]])
            #expect(shares.status == .badRequest && shares.text.contains("users[0].until"), "\(shares.text)")
            let ok = try await api.call(.put, "/groups/\(gid)/rotation", token: admin,
                json: ["schedule": ["kind": "days", "at": "02:00", "everyDays": 7, "timeZone": "UTC"], "passwordChoice": "unique"])
            #expect(ok.status == .ok, "\(ok.text)")

            // A final line break is no part of a time or an address (ICU's `$` matches before one).
            let clock = try await api.call(.put, "/settings/integrity", token: admin, json: ["dailyAt": "02:00\n"])
            #expect(clock.status == .badRequest, "\(clock.text)")
            let mail = try await api.call(.post, "/notifications/test", token: admin, json: ["email": "a@b.example\u{2028}"])
            #expect(mail.status == .badRequest && mail.text.contains("not an email address"), "\(mail.text)")

            // RFC 3339 with fractional seconds is a date-time; an unknown format is refused, not ignored.
            #expect(try await api.call(.get, "/audit?since=2026-01-01T00:00:00.5Z", token: admin).status == .ok)
            for path in ["/reports/integrity?format=xml", "/audit?user=" + String(repeating: "u", count: 201), "/audit?operation=a%0Ab"] {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_parameter", "\(path): \(r.text)")
            }
        }
    }
}
