import Foundation
import Shared

extension PGRunStore {
    func accountFacts(visibleTo p: Principal, rules: Bool) async throws -> [AccountFacts] {
        let vault = secrets.vault
        let (input, scope) = try await db.read { c in
            let scope = try await ListScope.of(p, c)
            var input = ReportInputs()
            input.resources = try await c.all(ResourceRecord.self, "SELECT * FROM resources")
            input.accounts = try await c.all(AccountRecord.self, "SELECT * FROM accounts")
            for row in try await c.rows("SELECT id, username FROM users") { input.usernames[try row["id"]] = try row["username"] }
            for row in try await c.rows("""
                SELECT gr.resourceId, g.passwordPolicy FROM groups g JOIN groupResources gr ON gr.groupId = g.id
                WHERE g.passwordPolicy IS NOT NULL ORDER BY g.name
                """)
            {
                let r: String = try row["resourceId"]
                if input.groupPolicy[r] == nil { input.groupPolicy[r] = try row["passwordPolicy"] }
            }
            for row in try await c.rows("SELECT name, json FROM policies") {
                let json: String = try row["json"]
                input.policies[try row["name"]] = try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data(json.utf8))
            }
            input.defaultPolicy = try await PGCatalog.setting(Settings.defaultPolicy, c) ?? PasswordPolicy.strong.name
            let sealed = rules ? "sealed" : "''::bytea"
            for row in try await c.rows("SELECT id, accountId, \(sealed) AS sealed, createdAt FROM secrets WHERE state = 'current'") {
                let account: String = try row["accountId"]
                guard scope.everything || scope.accounts.contains(account) else { continue }
                input.current[account] = .init(secretId: try row["id"], sealed: try row["sealed"], createdAt: try row["createdAt"])
            }
            for row in try await c.rows("""
                SELECT accountId, MAX(finishedAt) AS at FROM tasks WHERE kind = 'reset' AND state = 'succeeded' AND finishedAt IS NOT NULL GROUP BY accountId
                """)
            { input.lastReset[try row["accountId"]] = try row["at"] }
            input.resetConfigured = Set(try await c.column(String.self, "SELECT resourceId FROM resetConfigs"))
            input.accessControlled = Set(try await c.rows("SELECT scope, scopeId FROM accessPolicies").map {
                "\(try $0["scope", as: String.self]):\(try $0["scopeId", as: String.self])"
            })
            input.shares = try await c.rows("SELECT objectKind, objectId, principalKind, principalId FROM shares").map {
                .init(objectKind: try $0["objectKind"], objectId: try $0["objectId"], principalKind: try $0["principalKind"],
                    principalId: try $0["principalId"])
            }
            for row in try await c.rows("SELECT groupId, resourceId FROM groupResources") {
                input.groupsOfResource[try row["resourceId"], default: []].append(try row["groupId"])
            }
            for row in try await c.rows("SELECT groupId, userId FROM userGroupMembers") {
                input.membersOfUserGroup[try row["groupId"], default: []].append(try row["userId"])
            }
            return (input, scope)
        }
        // Opening thousands of passwords is CPU work: on a thread of its own, the database let go.
        return try await Blocking.run {
            input.facts(scope, rules: rules) { id, account, sealed in try vault.openSecret(sealed, identity: Vault.secretIdentity(secretID: id, accountID: account)) }
        }
    }

    func activity(visibleTo p: Principal, from: Date, to: Date) async throws -> [ActivityCount] {
        try await db.read { c in
            let scope = try await ListScope.of(p, c)
            let (sql, extra) = ActivityQuery.sql(day: "CAST(FLOOR(at / 86400) AS BIGINT)", scope: scope, marks: PGStatement.marks)
            let args: [any PGBindable] = [from, to] + extra
            return try await c.rows(sql, args).map {
                ActivityCount(user: try $0["u"], day: try $0["d"], retrievals: try $0["retrievals"], resets: try $0["resets"], logins: try $0["logins"],
                    failedLogins: try $0["failed"], refused: try $0["refused"])
            }
        }
    }
}
