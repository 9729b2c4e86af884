import Foundation
import GRDB
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The audit trail's life cycle through the API: old records purged into an archive that verifies
/// on its own while the rest of the trail still verifies; only super-administrators purge; the
/// export streams any range with /audit's filters and scope; retention purges daily.
@Suite struct AuditLifecycleTests {
    static func login(_ api: API) async throws -> String {
        try #require(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword]).object["token"] as? String)
    }

    static func chain(_ h: Harness) async throws -> AuditVerifier.Result { try await h.custody.sqlite!.read { try AuditVerifier.verify($0) } }

    @Test func aPurgeArchivesOldRecordsAndTheTrailAndTheArchiveBothVerify() async throws {
        // Audit records carry the wall clock's time: the cut falls between two real moments; the
        // server's clock is then two days on (the last day is never purged).
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            var admin = try await api.admin()
            let plain = try await api.user("plain-admin", role: "administrator", adminToken: admin)
            let rid = try await api.resource("old-days", token: admin)
            _ = try await api.account(rid, "svc_old", password: "Old-Days-Pass-1", token: admin)
            try await Task.sleep(for: .milliseconds(1100))
            let cut = Notice.stamp(Date())
            try await Task.sleep(for: .milliseconds(1100))
            let recent = try await api.resource("new-days", token: admin)
            let tooSoon = try await api.call(.post, "/audit/purge", token: admin, json: ["before": cut])
            #expect(tooSoon.errorCode == "invalid_field", "the last day is never purged: \(tooSoon.text)")
            clock.advance(2 * 86_400)
            admin = try await Self.login(api)
            let plainAgain = try await api.call(.post, "/auth/login", json: ["username": "plain-admin", "password": API.userPassword + "x"])
            let plain2 = try #require(plainAgain.object["token"] as? String, "\(plainAgain.text)")
            let before = try await api.call(.get, "/audit?limit=1000", token: admin).array.count
            _ = plain
            #expect(try await api.call(.post, "/audit/purge", token: plain2, json: ["before": cut]).status == .forbidden)
            #expect(try await api.call(.post, "/audit/purge", token: admin, json: ["before": "yesterday"]).errorCode == "invalid_field")
            #expect(try await api.call(.post, "/audit/purge", token: admin, json: ["before": "2099-01-01"]).errorCode == "invalid_field")
            let purged = try await api.call(.post, "/audit/purge", token: admin, json: ["before": cut])
            #expect(purged.status == .ok, "\(purged.text)")
            let records = try #require(purged.object["records"] as? Int)
            let name = try #require(purged.object["archive"] as? String)
            #expect(records > 3)
            let after = try await api.call(.get, "/audit?limit=1000", token: admin).array
            #expect(after.count == before - records + 1, "the new resource's row and the purge's own remain: \(after.count)")
            #expect(after.contains { $0["operation"] as? String == "purge_audit" && ($0["message"] as? String ?? "").contains(name) })
            #expect(!after.contains { $0["operation"] as? String == "create_account" && $0["account"] as? String == "svc_old" })
            #expect(after.contains { $0["operation"] as? String == "create_resource" && $0["resourceId"] as? String == recent })
            #expect(try await Self.chain(h).ok)

            let listed = try await api.call(.get, "/audit/archives", token: admin).array
            #expect(listed.map { $0["name"] as? String } == [name])
            #expect(try await api.call(.get, "/audit/archives", token: plain2).status == .forbidden)
            #expect(try await api.call(.get, "/audit/archives/..%2Fcustody.sqlite", token: admin).status == .notFound)
            let downloaded = try await api.call(.get, "/audit/archives/\(name)", token: admin)
            let path = h.custody.config.resolvedAuditArchiveDir + "/" + name
            #expect(downloaded.data == (try Data(contentsOf: URL(fileURLWithPath: path))))
            let key = try #require(h.custody.sqlite!.auditKey.key)
            #expect(try AuditArchive.verify(path: path, key: key).header.count == records)
            #expect(try AuditArchive.verify(path: path, key: nil).keyed == false)

            // An altered record: the keyed digest and the file digest both catch it.
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let altered = TestTargets.scratchURL.appendingPathComponent("altered-\(UUID().uuidString).jsonl").path
            try text.replacingOccurrences(of: "svc_old", with: "svc_new").write(toFile: altered, atomically: true, encoding: .utf8)
            #expect(throws: AuditArchiveError.self) { try AuditArchive.verify(path: altered, key: key) }
            #expect(throws: AuditArchiveError.self) { try AuditArchive.verify(path: altered, key: nil) }
            let cutShort = TestTargets.scratchURL.appendingPathComponent("cut-\(UUID().uuidString).jsonl").path
            try text.split(separator: "\n").dropLast().joined(separator: "\n").write(toFile: cutShort, atomically: true, encoding: .utf8)
            #expect(throws: AuditArchiveError.self) { try AuditArchive.verify(path: cutShort, key: key) }

            // A second purge chains to the first.
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await api.call(.post, "/audit/purge", token: admin, json: ["before": Notice.stamp(Date())])
            #expect(second.status == .ok, "\(second.text)")
            let name2 = try #require(second.object["archive"] as? String, "\(second.text)")
            let header2 = try AuditArchive.verify(path: h.custody.config.resolvedAuditArchiveDir + "/" + name2, key: key).header
            let header1 = try AuditArchive.verify(path: path, key: key).header
            #expect(header2.prevHash == header1.lastHash && header2.firstId == header1.lastId + 1)
            #expect(try await Self.chain(h).ok)
            let nothing = try await api.call(.post, "/audit/purge", token: admin, json: ["before": "2020-01-01"])
            #expect(nothing.object["records"] as? Int == 0 && nothing.object["archive"] == nil, "\(nothing.text)")
            #expect(try await Self.chain(h).ok)

            // A record slipped in before the checkpoint (ids the purge removed) is a break.
            try await h.custody.sqlite!.write { db in
                try db.execute(sql: """
                    INSERT INTO audit(id, at, user, ip, operation, outcome, prevHash, hash) VALUES (1, 0, 'ghost', 'x', 'login', 'success', ?, ?)
                    """, arguments: [AuditEntry.genesis, header1.prevHash])
            }
            let broken = try await Self.chain(h)
            #expect(!broken.ok && broken.firstBad == 1, "\(broken)")
        }
    }

    @Test func theExportStreamsEveryRecordInRangeWithTheListsFiltersAndScope() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let pa = try await api.user("exp-pa", role: "passwordAdministrator", adminToken: admin)
            let pu = try await api.user("exp-pu", role: "passwordUser", adminToken: admin)
            let rid = try await api.resource("exp-host", token: admin)
            for i in 0..<30 { _ = try await api.account(rid, "svc\(i)", password: "Exp-Pass-\(i)-xyz!", token: admin) }
            let all = try await api.call(.get, "/audit?limit=10000", token: admin).array
            let csv = try await api.call(.get, "/audit/export", token: admin)
            #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first.map(String.init) == AuditExport.csvHeader.trimmingCharacters(in: .newlines))
            #expect(lines.count - 1 == all.count + 1, "every record, oldest first, and the export's own")
            #expect(lines.dropFirst().first?.hasPrefix("1,") == true)
            let jsonl = try await api.call(.get, "/audit/export?format=jsonl&operation=create_account", token: admin)
            let rows = jsonl.text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(rows.count == 30 && rows.allSatisfy { $0["operation"] as? String == "create_account" })
            let to = Notice.stamp(Date(timeIntervalSince1970: 0))
            #expect(try await api.call(.get, "/audit/export?to=\(to)", token: admin).text == AuditExport.csvHeader)
            // A password administrator sees what /audit shows it, no more.
            let exported = try await api.call(.get, "/audit/export?format=jsonl", token: pa).text.split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["id"] as? Int }
            let theirs = try await api.call(.get, "/audit?limit=10000", token: pa).array.compactMap { $0["id"] as? Int }
            #expect(Set(exported) == Set(theirs) && !exported.isEmpty, "\(exported.count) vs \(theirs.count)")
            #expect(try await api.call(.get, "/audit/export", token: pu).status == .forbidden)
            #expect(try await api.call(.get, "/audit/export?format=xml", token: admin).status == .badRequest)
            let audit = try await api.call(.get, "/audit?operation=export_audit", token: admin).array
            #expect(audit.count >= 3)
        }
    }

    @Test func retentionPurgesDailyWhatIsOlderThanItsDays() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock, configure: { $0.auditRetentionDays = 7 })
        try await h.run { api in
            let admin = try await api.admin()
            _ = try await api.resource("kept-a-while", token: admin)
            #expect(try await h.custody.auditLifecycle.runDue()?.records == 0, "nothing is 7 days old yet")
            clock.advance(3600)
            #expect(try await h.custody.auditLifecycle.runDue() == nil, "once a day")
            clock.advance(8 * 86_400)
            let purged = try #require(try await h.custody.auditLifecycle.runDue())
            #expect(purged.records > 0 && purged.archive != nil)
            #expect(try await Self.chain(h).ok)
            let left = try await h.custody.sqlite!.read { db in
                try Row.fetchAll(db, sql: "SELECT user, operation FROM audit").map { ["user": $0["user"] as String, "operation": $0["operation"] as String] }
            }
            #expect(left == [["user": "retention", "operation": "purge_audit"]], "\(left)")
        }
    }
}

@Suite struct UTCStampTests {
    @Test func theStampIsTheFormattersForAnySecond() {
        for s in [0.0, 59.9, 86_399.5, 951_782_400, 1_796_657_279.4252, 4_102_444_800, -1, -86_401] {
            #expect(UTCStamp.format(s) == Notice.stamp(Date(timeIntervalSince1970: s.rounded(.down))), "\(s)")
        }
        #expect(Routes.csvField("=1+2") == "'=1+2" && Routes.csvField("\tx") == "\"'\tx\"" && Routes.csvField("a,b") == "\"a,b\"")
        // A spreadsheet that splits on ; or tab keeps the cell whole.
        #expect(Routes.csvField("x;=1+1") == "\"x;=1+1\"" && Routes.csvField("x\t=1") == "\"x\t=1\"")
        #expect(Routes.csvField("say \"hi\"\r\n") == "\"say \"\"hi\"\"\r\n\"")
    }
}
