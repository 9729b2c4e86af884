import Foundation
import GRDB
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Script listeners after committed changes: what they receive in each mode, what is audited,
/// and dual control.
@Suite struct ListenerTests: ListenerFixture {
    @Test func argvModePassesPMPsArgumentsInOrder() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            let r = try await api.call(.post, "/listeners", token: e.admin, json: ["name": "argv", "kind": "script", "resourceTypes": ["Linux"],
                "script": "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(e.dir)/args\n", "secretsVia": "argv",
                "additionalParameters": ["extra one", "--flag"], "approver": "admin2"])
            #expect((r.object["warnings"] as? [String])?.first?.contains("/proc") == true, "argv mode must warn: \(r.text)")
            try await api.call(.post, "/listeners/\(try #require(r.object["id"] as? String))/approve", token: e.admin2)
            try await Self.change(api, e)
            let args = try await Self.waitFor(e.dir + "/args").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let name = try await api.call(.get, "/resources/\(e.rid)", token: e.admin).object["name"] as? String ?? ""
            #expect(args == [name, "\(name).example.test", "svc", Self.old, Self.new, "extra one", "--flag", ""])
            let audited = try await Self.runs(api, count: 1)
            #expect(audited.first?.0 == "success" && audited.first?.1.contains("exit 0") == true)
            #expect(!audited.contains { $0.1.contains(Self.new) || $0.1.contains(Self.old) })
        }
    }

    @Test func stdinModeSendsTheResetJobAndNoPasswordOnTheCommandLine() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            try await Self.listener(api, e, "stdin", script: """
                #!/bin/sh
                cat > \(e.dir)/job.json
                pwd > \(e.dir)/pwd
                printf '%s\\n' "$@" > \(e.dir)/args
                echo $$ > \(e.dir)/pid
                \(Self.hold(e.dir))
                """, extra: ["p6"])
            try await Self.change(api, e)
            let cmdline = try await Self.cmdline(pidFile: e.dir + "/pid")
            #expect(cmdline.contains("svc") && !cmdline.contains(Self.new) && !cmdline.contains(Self.old), "\(cmdline)")
            let job = try #require(try JSONSerialization.jsonObject(with: Data(try await Self.waitFor(e.dir + "/job.json").utf8)) as? [String: Any])
            #expect(job["operation"] as? String == "notify")
            #expect(job["currentPassword"] as? String == Self.old && job["newPassword"] as? String == Self.new)
            #expect((job["account"] as? [String: String])?["LOGINNAME"] == "svc")
            #expect((job["resource"] as? [String: String])?["IPADDRESS"]?.hasSuffix(".example.test") == true)
            let args = try await Self.waitFor(e.dir + "/args").split(separator: "\n").map(String.init)
            #expect(Array(args.suffix(3)) == ["-", "-", "p6"], "the password positions hold '-' so $6 stays the first extra")
            let pwd = try await Self.waitFor(e.dir + "/pwd").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(pwd.hasPrefix(api.harness.custody.config.resolvedListenerWorkDir + "/run-"), "\(pwd)")
            _ = try await Self.runs(api, count: 1)
            #expect(!FileManager.default.fileExists(atPath: pwd), "the run directory is removed after the run")
        }
    }

    @Test func envModeSetsVariablesAndNoPasswordOnTheCommandLine() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            try await Self.listener(api, e, "env", script: "#!/bin/sh\nenv > \(e.dir)/env\necho $$ > \(e.dir)/pid\n\(Self.hold(e.dir))", via: "env")
            try await Self.change(api, e)
            let cmdline = try await Self.cmdline(pidFile: e.dir + "/pid")
            #expect(!cmdline.contains(Self.new) && !cmdline.contains(Self.old), "\(cmdline)")
            let env = Set(try await Self.waitFor(e.dir + "/env").split(separator: "\n").map(String.init))
            #expect(env.contains("CUSTODY_NEW_PASSWORD=\(Self.new)") && env.contains("CUSTODY_OLD_PASSWORD=\(Self.old)"))
            #expect(env.contains("CUSTODY_LOGINNAME=svc") && env.contains { $0.hasPrefix("CUSTODY_RESOURCENAME=app-") })
        }
    }

    @Test func aListenerPastItsTimeoutIsKilledAndTheChangeStands() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            try await Self.listener(api, e, "slow", script: "#!/bin/sh\necho started\nsleep 30\n", timeout: 1)
            try await Self.change(api, e)
            let auditedAtAnswer = try await api.harness.custody.store.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE operation = 'listener_run'")
            }
            #expect(auditedAtAnswer == 0, "the change answered before its listener (which runs until its timeout) ended")
            let stored = try await api.call(.get, "/resources/\(e.rid)/accounts/\(e.aid)/password", token: e.admin)
            #expect(stored.object["password"] as? String == Self.new)
            let run = try #require(try await Self.runs(api, count: 1).first)
            #expect(run.0 == "failure" && run.1.contains("killed after the 1 s timeout") && run.1.contains("started"), "\(run.1)")
        }
    }

    @Test func aNonZeroExitIsRecordedWithRedactedOutput() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            try await Self.listener(api, e, "fails", script: "#!/bin/sh\necho \"could not use $5\" >&2\nexit 7\n", via: "argv")
            try await Self.change(api, e)
            let run = try #require(try await Self.runs(api, count: 1).first)
            #expect(run.0 == "failure" && run.1.contains("exit 7") && run.1.contains("could not use <redacted>"), "\(run.1)")
        }
    }

    @Test func dualControlAuthorCannotApproveAndEditsNeedApprovalAgain() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            let id = try await Self.listener(api, e, "dual", script: "#!/bin/sh\ntouch \(e.dir)/ran\n", approve: false)
            let own = try await api.call(.post, "/listeners/\(id)/approve", token: e.admin)
            #expect(own.status == .forbidden, "\(own.text)")
            let selfApprover = try await api.call(.post, "/listeners", token: e.admin, json: ["name": "x", "kind": "script",
                "resourceTypes": ["Linux"], "script": "#!/bin/sh\n", "approver": "admin"])
            #expect(selfApprover.errorCode == "invalid_approver")
            try await Self.change(api, e)  // pending: never runs, never queued
            #expect(try await api.harness.custody.store.read { try ListenerRunRecord.fetchCount($0) } == 0)
            #expect(try await api.call(.post, "/listeners/\(id)/approve", token: e.admin2).object["status"] as? String == "active")
            let edit = try await api.call(.put, "/listeners/\(id)", token: e.admin, json: ["name": "dual", "kind": "script",
                "resourceTypes": ["Linux"], "script": "#!/bin/sh\ntouch \(e.dir)/edited\n", "approver": "admin2"])
            #expect(edit.object["status"] as? String == "pendingApproval" && edit.object["revision"] as? Int == 2, "\(edit.text)")
            try await Self.change(api, e, to: "Third-Pass-789!")
            #expect(try await api.harness.custody.store.read { try ListenerRunRecord.fetchCount($0) } == 0)
            // admin2 edits now: admin2 is the author of revision 3, so admin may approve it.
            try await api.call(.put, "/listeners/\(id)", token: e.admin2, json: ["name": "dual", "kind": "script",
                "resourceTypes": ["Linux"], "script": "#!/bin/sh\ntouch \(e.dir)/edited\n", "approver": "admin"])
            #expect(try await api.call(.post, "/listeners/\(id)/approve", token: e.admin2).status == .forbidden)
            let shown = try await api.call(.get, "/listeners/\(id)", token: e.admin)
            #expect((shown.object["script"] as? String)?.contains("edited") == true && shown.object["author"] as? String == "admin2")
            #expect(try await api.call(.post, "/listeners/\(id)/approve", token: e.admin).object["status"] as? String == "active")
            try await api.call(.post, "/listeners/\(id)/disable", token: e.admin)
            try await Self.change(api, e, to: "Fourth-Pass-789!")
            #expect(try await api.harness.custody.store.read { try ListenerRunRecord.fetchCount($0) } == 0)
            // Runs are queued in the change's own transaction: none queued is none to come.
            #expect(!FileManager.default.fileExists(atPath: e.dir + "/ran") && !FileManager.default.fileExists(atPath: e.dir + "/edited"))
            #expect(try await api.harness.custody.store.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE operation = 'listener_run'")
            } == 0)
            // Re-enabling keeps the author: admin2 wrote revision 3, so admin2 still may not approve it.
            try await api.call(.post, "/listeners/\(id)/enable", token: e.admin)
            #expect(try await api.call(.post, "/listeners/\(id)/approve", token: e.admin2).status == .forbidden)
            let stale = try await api.call(.post, "/listeners/\(id)/approve?revision=2", token: e.admin)
            #expect(stale.status == .conflict && stale.text.contains("revision 3"), "an approval names the revision reviewed: \(stale.text)")
            #expect(try await api.call(.post, "/listeners/\(id)/approve?revision=3", token: e.admin).object["status"] as? String == "active")
            let ops = try await api.harness.custody.store.read { db in
                try String.fetchAll(db, sql: "SELECT operation FROM audit WHERE operation LIKE '%listener%' ORDER BY id")
            }
            for op in ["create_listener", "listener_approval_requested", "approve_listener", "edit_listener", "disable_listener"] {
                #expect(ops.contains(op), "\(op) is not audited")
            }
        }
    }

    @Test func aRunQueuedBeforeAnEditIsSkipped() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let e = try await Self.setup(api)
            let id = try await Self.listener(api, e, "edited", script: "#!/bin/sh\ntouch \(e.dir)/ran\n")
            // A run in flight (state running, so the runner leaves it to us) for revision 1.
            let run = try await h.custody.store.write { db -> ListenerRunRecord in
                let r = try #require(try ResourceRecord.fetchOne(db, key: e.rid)), a = try #require(try AccountRecord.fetchOne(db, key: e.aid))
                try h.custody.queueListeners(r, a, old: nil, new: Secret("X-1"), trigger: "test", db)
                try ListenerRunRecord.updateAll(db, Column("state").set(to: "running"))
                return try #require(try ListenerRunRecord.fetchOne(db))
            }
            try await api.call(.put, "/listeners/\(id)", token: e.admin, json: ["name": "edited", "kind": "script",
                "resourceTypes": ["Linux"], "script": "#!/bin/sh\n", "approver": "admin2"])
            try await api.call(.post, "/listeners/\(id)/approve", token: e.admin2)
            await h.custody.listenerRuns.run(run)
            let audited = try #require(try await Self.runs(api, count: 1).first)
            #expect(audited.0 == "failure" && audited.1.contains("skipped: the listener was edited"), "\(audited.1)")
            #expect(!FileManager.default.fileExists(atPath: e.dir + "/ran"))
        }
    }

    @Test func scriptsAreSealedAndSurviveKeyRotation() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let e = try await Self.setup(api)
            let id = try await Self.listener(api, e, "sealed", script: "#!/bin/sh\necho SCRIPT-MARKER\n")
            let raw = try await h.custody.store.read { db in try Data.fetchOne(db, sql: "SELECT sealedScript FROM listeners WHERE id = ?", arguments: [id]) }
            #expect(raw.map { !String(decoding: $0, as: UTF8.self).contains("SCRIPT-MARKER") } == true, "scripts are stored encrypted")
            try await api.call(.post, "/listeners/\(id)/disable", token: e.admin)  // the runner leaves the run below alone
            let run = try await h.custody.store.write { db -> ListenerRunRecord in
                let r = try #require(try ResourceRecord.fetchOne(db, key: e.rid)), a = try #require(try AccountRecord.fetchOne(db, key: e.aid))
                try ListenerRecord.updateAll(db, Column("status").set(to: "active"))
                try h.custody.queueListeners(r, a, old: Secret("Old-Run-1"), new: Secret("New-Run-1"), trigger: "test", db)
                try ListenerRunRecord.updateAll(db, Column("state").set(to: "running"))
                return try #require(try ListenerRunRecord.fetchOne(db))
            }
            let rotated = try KeyRotation(store: h.custody.store, keyPath: h.custody.config.resolvedMasterKeyFile).run(current: h.custody.vault)
            let again = try await h.custody.store.read { db in try ListenerRecord.fetchOne(db, key: id) }
            let body = try rotated.vault.open(try #require(again?.sealedScript), identity: Vault.listenerIdentity(id: id, revision: 1))
            #expect(String(decoding: body, as: UTF8.self).contains("SCRIPT-MARKER"), "key rotation re-encrypts listener scripts")
            let sealed = try await h.custody.store.read { db in try ListenerRunRecord.fetchOne(db, key: run.id)?.sealedSecrets }
            let secrets = try rotated.vault.open(try #require(sealed), identity: Vault.listenerRunIdentity(id: run.id))
            #expect(String(decoding: secrets, as: UTF8.self).contains("New-Run-1"), "key rotation re-encrypts queued runs")
        }
    }

    @Test func aQueuedRunSurvivesARestartAndAnInterruptedOneIsRecordedNotRepeated() async throws {
        let first = try await Harness.make()
        let e = try await first.run { api in
            let e = try await Self.setup(api)
            try await Self.listener(api, e, "durable", script: "#!/bin/sh\necho ran >> \(e.dir)/log\n")
            return e
        }
        // The server stopped with two runs in the table: one queued, one that was running.
        try await first.custody.store.write { db in
            let r = try #require(try ResourceRecord.fetchOne(db, key: e.rid)), a = try #require(try AccountRecord.fetchOne(db, key: e.aid))
            try first.custody.queueListeners(r, a, old: nil, new: Secret("Was-Running-1"), trigger: "before the crash", db)
            try ListenerRunRecord.updateAll(db, Column("state").set(to: "running"))
            try first.custody.queueListeners(r, a, old: nil, new: Secret("Was-Queued-1"), trigger: "queued before the stop", db)
        }
        let second = try await Harness.make(dataDir: first.dataDir)
        try await second.run { api in
            let audited = try await Self.runs(api, count: 2)
            #expect(audited.contains { $0.0 == "failure" && $0.1.contains("interrupted by a server stop; not run again") })
            #expect(audited.contains { $0.0 == "success" && $0.1.contains("queued before the stop") })
            #expect(try await Self.waitFor(e.dir + "/log") == "ran\n")
            #expect(try await second.custody.store.read { try ListenerRunRecord.fetchCount($0) } == 0)
        }
    }

    @Test func badListenerDefinitionsAreRefusedAndChangeNothing() async throws {
        try await Harness.make().run { api in
            let e = try await Self.setup(api)
            let user = try await api.user("plainuser", role: "passwordAdministrator", adminToken: e.admin)
            let good: [String: Any] = ["name": "ok", "kind": "script", "resourceTypes": ["Linux"], "script": "#!/bin/sh\n", "approver": "admin2"]
            func with(_ changes: [String: Any?]) -> [String: Any] {
                var b = good
                for (k, v) in changes { b[k] = v }
                return b
            }
            let cases: [([String: Any], String)] = [
                (with(["approver": nil]), "missing_field"),
                (with(["approver": "nobody"]), "invalid_approver"),
                (with(["approver": "plainuser"]), "invalid_approver"),
                (with(["approver": "admin"]), "invalid_approver"),
                (with(["script": nil]), "invalid_field"),
                (with(["executable": "/bin/true"]), "invalid_field"),
                (with(["script": nil, "executable": "relative/path"]), "invalid_field"),
                (with(["script": nil, "executable": "/no/such/file"]), "invalid_field"),
                (with(["kind": "custom", "secretsVia": "argv"]), "invalid_field"),
                (with(["kind": "python"]), "invalid_field"),
                (with(["secretsVia": "file"]), "invalid_field"),
                (with(["timeoutSeconds": 0]), "invalid_field"),
                (with(["resourceTypes": []]), "invalid_field"),
                (with(["name": "a/b"]), "invalid_field"),
                (with(["preCommand": "python3\nrm -rf /"]), "invalid_field"),
                (with(["additionalParameters": ["x\u{0}y"]]), "invalid_field"),
                (with(["script": String(repeating: "x", count: ListenerBody.maxScriptBytes + 1)]), "invalid_field"),
                (with(["extra": true]), "unknown_field"),
            ]
            for (body, code) in cases {
                let r = try await api.call(.post, "/listeners", token: e.admin, json: body)
                #expect(r.status == .badRequest && r.errorCode == code, "\(body.keys.sorted()): \(r.text)")
            }
            let notAdmin = try await api.call(.post, "/listeners", token: user, json: good)
            #expect(notAdmin.status == .forbidden)
            #expect(try await api.call(.get, "/listeners", token: e.admin).array.isEmpty, "nothing was created")
            let created = try await api.call(.post, "/listeners", token: e.admin, json: good)
            let id = try #require(created.object["id"] as? String)
            #expect(try await api.call(.post, "/listeners", token: e.admin, json: good).status == .conflict)
            let badEdit = try await api.call(.put, "/listeners/\(id)", token: e.admin, json: with(["timeoutSeconds": 99999]))
            #expect(badEdit.status == .badRequest)
            #expect(try await api.call(.get, "/listeners/\(id)", token: e.admin).object["revision"] as? Int == 1, "a refused edit changes nothing")
            #expect(try await api.call(.post, "/listeners/\(id)/enable", token: e.admin).status == .conflict)
            #expect(try await api.call(.get, "/listeners/nope", token: e.admin).status == .notFound)
            #expect(try await api.call(.post, "/listeners/\(id)/approve?revision=x", token: e.admin2).status == .badRequest)
            // Deleting a listener with a queued run audits the dropped run.
            try await api.call(.post, "/listeners/\(id)/approve", token: e.admin2)
            try await api.call(.post, "/listeners/\(id)/disable", token: e.admin)
            try await api.harness.custody.store.write { db in
                let r = try #require(try ResourceRecord.fetchOne(db, key: e.rid)), a = try #require(try AccountRecord.fetchOne(db, key: e.aid))
                try ListenerRecord.updateAll(db, Column("status").set(to: "active"))
                try api.harness.custody.queueListeners(r, a, old: nil, new: Secret("Q-1"), trigger: "queued", db)
                try ListenerRunRecord.updateAll(db, Column("state").set(to: "running"))
            }
            #expect(try await api.call(.delete, "/listeners/\(id)", token: e.admin).status == .noContent)
            #expect(try await Self.runs(api, count: 1).first?.1.contains("dropped, the listener was deleted") == true)
        }
    }
}
