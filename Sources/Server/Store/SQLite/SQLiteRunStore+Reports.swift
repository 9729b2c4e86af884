import Foundation
import GRDB
import Shared

extension SQLiteRunStore {
    func accountFacts(visibleTo p: Principal, rules: Bool) async throws -> [AccountFacts] {
        let vault = secrets.vault
        let (input, scope) = try await db.read { db in
            let scope = try ListScope.of(p, db)
            var input = ReportInputs()
            input.resources = try ResourceRecord.fetchAll(db)
            input.accounts = try AccountRecord.fetchAll(db)
            for row in try Row.fetchAll(db, sql: "SELECT id, username FROM users") { input.usernames[row["id"]] = row["username"] }
            for row in try Row.fetchAll(db, sql: """
                SELECT gr.resourceId, g.passwordPolicy FROM groups g JOIN groupResources gr ON gr.groupId = g.id
                WHERE g.passwordPolicy IS NOT NULL ORDER BY g.name
                """)
            where input.groupPolicy[row["resourceId"]] == nil { input.groupPolicy[row["resourceId"]] = row["passwordPolicy"] }
            for row in try Row.fetchAll(db, sql: "SELECT name, json FROM policies") {
                input.policies[row["name"]] = try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data((row["json"] as String).utf8))
            }
            input.defaultPolicy = try Settings.get(Settings.defaultPolicy, db) ?? PasswordPolicy.strong.name
            let sealed = rules ? "sealed" : "x''"
            for row in try Row.fetchAll(db, sql: "SELECT id, accountId, \(sealed) AS sealed, createdAt FROM secrets WHERE state = 'current'")
            where scope.everything || scope.accounts.contains(row["accountId"]) {
                input.current[row["accountId"]] = .init(secretId: row["id"], sealed: row["sealed"], createdAt: Date(timeIntervalSince1970: row["createdAt"]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT accountId, MAX(finishedAt) AS at FROM tasks WHERE kind = 'reset' AND state = 'succeeded' AND finishedAt IS NOT NULL GROUP BY accountId
                """)
            { input.lastReset[row["accountId"]] = Date(timeIntervalSince1970: row["at"]) }
            input.resetConfigured = Set(try String.fetchAll(db, sql: "SELECT resourceId FROM resetConfigs"))
            input.accessControlled = Set(try Row.fetchAll(db, sql: "SELECT scope, scopeId FROM accessPolicies").map { "\($0["scope"] as String):\($0["scopeId"] as String)" })
            input.shares = try Row.fetchAll(db, sql: "SELECT objectKind, objectId, principalKind, principalId FROM shares").map {
                .init(objectKind: $0["objectKind"], objectId: $0["objectId"], principalKind: $0["principalKind"], principalId: $0["principalId"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT groupId, resourceId FROM groupResources") {
                input.groupsOfResource[row["resourceId"], default: []].append(row["groupId"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT groupId, userId FROM userGroupMembers") {
                input.membersOfUserGroup[row["groupId"], default: []].append(row["userId"])
            }
            return (input, scope)
        }
        // Opening thousands of passwords is CPU work: on a thread of its own, the database let go.
        return try await Blocking.run {
            input.facts(scope, rules: rules) { id, account, sealed in try vault.openSecret(sealed, identity: Vault.secretIdentity(secretID: id, accountID: account)) }
        }
    }

    func activity(visibleTo p: Principal, from: Date, to: Date) async throws -> [ActivityCount] {
        try await db.read { db in
            let scope = try ListScope.of(p, db)
            let (sql, extra) = ActivityQuery.sql(day: "CAST(at / 86400 AS INTEGER)", scope: scope, marks: databaseQuestionMarks(count:))
            let args: [any DatabaseValueConvertible] = [from.seconds, to.seconds] + extra
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map {
                ActivityCount(user: $0["u"], day: $0["d"], retrievals: $0["retrievals"], resets: $0["resets"], logins: $0["logins"],
                    failedLogins: $0["failed"], refused: $0["refused"])
            }
        }
    }
}
