import GRDB

/// The schema, as an ordered list of migrations. Never edit a shipped migration; add one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                  id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                  passwordHash TEXT NOT NULL, role TEXT NOT NULL, superAdmin INTEGER NOT NULL DEFAULT 0,
                  email TEXT, mustChangePassword INTEGER NOT NULL DEFAULT 0, createdAt REAL NOT NULL);
                CREATE TABLE userGroups (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);
                CREATE TABLE userGroupMembers (
                  groupId TEXT NOT NULL REFERENCES userGroups(id) ON DELETE CASCADE,
                  userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (groupId, userId));
                CREATE TABLE tokens (
                  id TEXT PRIMARY KEY, userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                  name TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                  createdAt REAL NOT NULL, expiresAt REAL, revokedAt REAL);
                CREATE TABLE loginFailures (username TEXT NOT NULL COLLATE NOCASE, at REAL NOT NULL);
                CREATE INDEX loginFailuresByName ON loginFailures(username, at);
                CREATE TABLE policies (name TEXT PRIMARY KEY COLLATE NOCASE, builtIn INTEGER NOT NULL, json TEXT NOT NULL);
                CREATE TABLE resourceTypes (name TEXT PRIMARY KEY COLLATE NOCASE, plugin TEXT NOT NULL, builtIn INTEGER NOT NULL);
                CREATE TABLE resources (
                  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, dnsName TEXT NOT NULL,
                  type TEXT NOT NULL, description TEXT, department TEXT, location TEXT, url TEXT,
                  customFields TEXT NOT NULL DEFAULT '{}', passwordPolicy TEXT, ownerId TEXT NOT NULL REFERENCES users(id),
                  createdAt REAL NOT NULL, updatedAt REAL NOT NULL);
                CREATE TABLE accounts (
                  id TEXT PRIMARY KEY, resourceId TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
                  loginName TEXT NOT NULL, description TEXT, notes TEXT, customFields TEXT NOT NULL DEFAULT '{}',
                  syncStatus TEXT NOT NULL DEFAULT 'neverChecked', lastVerifiedAt REAL, lastChangedAt REAL,
                  createdAt REAL NOT NULL, UNIQUE (resourceId, loginName));
                CREATE TABLE secrets (
                  id TEXT PRIMARY KEY, accountId TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                  state TEXT NOT NULL, sealed BLOB NOT NULL, createdAt REAL NOT NULL, createdBy TEXT NOT NULL);
                CREATE INDEX secretsByAccount ON secrets(accountId, state, createdAt);
                CREATE TABLE groups (
                  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, ownerId TEXT NOT NULL REFERENCES users(id),
                  passwordPolicy TEXT, createdAt REAL NOT NULL);
                CREATE TABLE groupResources (
                  groupId TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                  resourceId TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE, PRIMARY KEY (groupId, resourceId));
                CREATE TABLE shares (
                  objectKind TEXT NOT NULL, objectId TEXT NOT NULL, principalKind TEXT NOT NULL,
                  principalId TEXT NOT NULL, permission TEXT NOT NULL,
                  PRIMARY KEY (objectKind, objectId, principalKind, principalId));
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE vaultMeta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE audit (
                  id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, user TEXT NOT NULL, ip TEXT NOT NULL,
                  operation TEXT NOT NULL, resource TEXT, account TEXT, reason TEXT, ticketId TEXT,
                  outcome TEXT NOT NULL, message TEXT, resourceId TEXT, accountId TEXT,
                  prevHash TEXT NOT NULL, hash TEXT NOT NULL);
                CREATE INDEX auditByResource ON audit(resourceId, id);
                CREATE TRIGGER auditNoUpdate BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                CREATE TRIGGER auditNoDelete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                """)
        }
        m.registerMigration("v2-reset") { db in
            try db.execute(sql: """
                CREATE TABLE resetConfigs (
                  resourceId TEXT PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE, json TEXT NOT NULL);
                CREATE TABLE tasks (
                  id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, phase TEXT NOT NULL, via TEXT NOT NULL,
                  resourceId TEXT NOT NULL, accountId TEXT NOT NULL, host TEXT NOT NULL, requestedBy TEXT NOT NULL,
                  requestedById TEXT, newPasswordGiven INTEGER NOT NULL DEFAULT 0, pendingSecretId TEXT,
                  attempts INTEGER NOT NULL DEFAULT 0, resultCode TEXT, resultMessage TEXT, reason TEXT, ticketId TEXT,
                  createdAt REAL NOT NULL, startedAt REAL, finishedAt REAL, notBefore REAL NOT NULL DEFAULT 0);
                CREATE INDEX tasksByState ON tasks(state, notBefore, createdAt);
                CREATE INDEX tasksByRequester ON tasks(requestedById, createdAt);
                CREATE UNIQUE INDEX oneActiveResetPerAccount ON tasks(accountId)
                  WHERE kind = 'reset' AND state IN ('queued', 'running', 'unknown');
                """)
        }
        m.registerMigration("v3-listeners") { db in
            try db.execute(sql: """
                CREATE TABLE listeners (
                  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, kind TEXT NOT NULL,
                  resourceTypes TEXT NOT NULL, sealedScript BLOB, executable TEXT, sha256 TEXT, preCommand TEXT,
                  additionalParameters TEXT NOT NULL, secretsVia TEXT NOT NULL, timeoutSeconds REAL NOT NULL,
                  status TEXT NOT NULL, revision INTEGER NOT NULL, authorId TEXT NOT NULL, approverId TEXT NOT NULL,
                  approvedById TEXT, approvedAt REAL, createdAt REAL NOT NULL, updatedAt REAL NOT NULL);
                CREATE TABLE listenerRuns (
                  id TEXT PRIMARY KEY, listenerId TEXT NOT NULL REFERENCES listeners(id) ON DELETE CASCADE,
                  revision INTEGER NOT NULL, resourceId TEXT NOT NULL, accountId TEXT NOT NULL, trigger TEXT NOT NULL,
                  sealedSecrets BLOB NOT NULL, state TEXT NOT NULL, createdAt REAL NOT NULL);
                CREATE INDEX listenerRunsByState ON listenerRuns(state, createdAt);
                """)
        }
        m.registerMigration("v4-rotation") { db in
            try db.execute(sql: """
                CREATE TABLE rotations (
                  groupId TEXT PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE, json TEXT NOT NULL,
                  savedAt REAL NOT NULL, savedBy TEXT NOT NULL, lastRunAt REAL);
                CREATE TABLE rotationRuns (
                  id TEXT PRIMARY KEY, groupId TEXT NOT NULL, trigger TEXT NOT NULL, requestedBy TEXT NOT NULL,
                  startedAt REAL NOT NULL, entries TEXT NOT NULL);
                CREATE INDEX rotationRunsByGroup ON rotationRuns(groupId, startedAt);
                ALTER TABLE tasks ADD COLUMN notAfter REAL;
                ALTER TABLE tasks ADD COLUMN rotationRunId TEXT;
                """)
        }
        m.registerMigration("v5-integrity") { db in
            try db.execute(sql: """
                CREATE TABLE integrityRuns (
                  id TEXT PRIMARY KEY, trigger TEXT NOT NULL, requestedBy TEXT NOT NULL, startedAt REAL NOT NULL, entries TEXT NOT NULL);
                ALTER TABLE tasks ADD COLUMN integrityRunId TEXT;
                """)
        }
        m.registerMigration("v6-expiry") { db in
            try db.execute(sql: """
                CREATE TABLE expiries (
                  accountId TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE, changedAt REAL NOT NULL, notedAt REAL NOT NULL);
                """)
        }
        m.registerMigration("v7-notifications") { db in
            try db.execute(sql: """
                CREATE TABLE notifications (
                  id TEXT PRIMARY KEY, event TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL,
                  body TEXT NOT NULL, fields TEXT NOT NULL, createdAt REAL NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                  nextAttemptAt REAL NOT NULL, lastError TEXT, sentAt REAL);
                CREATE INDEX notificationsDue ON notifications(state, nextAttemptAt);
                CREATE INDEX notificationsByTime ON notifications(createdAt);
                CREATE TABLE notificationRules (event TEXT PRIMARY KEY, json TEXT NOT NULL, savedAt REAL NOT NULL, savedBy TEXT NOT NULL);
                CREATE TABLE notificationTemplates (
                  event TEXT PRIMARY KEY, subject TEXT NOT NULL, body TEXT NOT NULL, savedAt REAL NOT NULL, savedBy TEXT NOT NULL);
                CREATE TABLE notificationMarks (key TEXT PRIMARY KEY, at REAL NOT NULL);
                ALTER TABLE rotationRuns ADD COLUMN noticedAt REAL;
                UPDATE rotationRuns SET noticedAt = startedAt;
                """)
        }
        m.registerMigration("v8-agents") { db in
            try db.execute(sql: """
                CREATE TABLE agents (
                  id TEXT PRIMARY KEY, hostname TEXT NOT NULL, os TEXT NOT NULL, arch TEXT NOT NULL, version TEXT NOT NULL,
                  signingKey BLOB NOT NULL, sealingKey BLOB NOT NULL, resourceId TEXT, enrolledAt REAL NOT NULL,
                  lastSeenAt REAL NOT NULL, revokedAt REAL);
                CREATE INDEX agentsByHost ON agents(hostname);
                CREATE TABLE enrollmentTokens (
                  digest TEXT PRIMARY KEY, os TEXT NOT NULL, resourceId TEXT, createdBy TEXT NOT NULL, createdAt REAL NOT NULL,
                  expiresAt REAL NOT NULL, usedAt REAL, agentId TEXT);
                CREATE TABLE agentNonces (nonce TEXT PRIMARY KEY, at REAL NOT NULL);
                CREATE INDEX agentNoncesByTime ON agentNonces(at);
                CREATE TABLE agentJobs (
                  id TEXT PRIMARY KEY, agentId TEXT NOT NULL, operation TEXT NOT NULL, encapsulatedKey BLOB NOT NULL,
                  ciphertext BLOB NOT NULL, state TEXT NOT NULL, leaseId TEXT, leaseExpiresAt REAL, result TEXT,
                  createdAt REAL NOT NULL, queueDeadline REAL NOT NULL);
                CREATE INDEX agentJobsByAgent ON agentJobs(agentId, state, createdAt);
                """)
        }
        m.registerMigration("v9-web-sessions") { db in
            // Console sessions (kind 'web') record their last use, so the idle timeout survives restarts.
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN lastUsedAt REAL")
        }
        m.registerMigration("v10-totp") { db in
            // Second factor: a sealed secret per user; `lastStep` refuses a code used before.
            try db.execute(sql: """
                CREATE TABLE totp (userId TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE, sealed BLOB NOT NULL,
                  enabled INTEGER NOT NULL DEFAULT 0, lastStep INTEGER NOT NULL DEFAULT 0, createdAt REAL NOT NULL)
                """)
        }
        m.registerMigration("v11-reconcile") { db in
            try db.execute(sql: "ALTER TABLE tasks ADD COLUMN reconcileAttempts INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v12-agent-bindings") { db in
            // An agent serves only what an administrator bound to it. Bundle bindings carry over;
            // agents that served a resource by its host name alone now show it as a pending binding.
            try db.execute(sql: """
                CREATE TABLE agentBindings (
                  resourceId TEXT PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
                  agentId TEXT NOT NULL REFERENCES agents(id), approvedBy TEXT NOT NULL, approvedAt REAL NOT NULL);
                CREATE INDEX agentBindingsByAgent ON agentBindings(agentId);
                INSERT OR IGNORE INTO agentBindings(resourceId, agentId, approvedBy, approvedAt)
                  SELECT resourceId, id, 'bundle', enrolledAt FROM agents
                  WHERE resourceId IS NOT NULL AND revokedAt IS NULL AND resourceId IN (SELECT id FROM resources)
                  ORDER BY enrolledAt DESC;
                """)
        }
        m.registerMigration("v13-two-person") { db in
            try db.execute(sql: """
                ALTER TABLE users ADD COLUMN createdById TEXT;
                ALTER TABLE users ADD COLUMN promotedById TEXT;
                ALTER TABLE users ADD COLUMN credentialsResetById TEXT;
                """)
        }
        m.registerMigration("v14-notification-subjects") { db in
            // The accounts a notification is about, so the outbox shows each caller only its own;
            // older rows name none and stay with administrators and auditors.
            try db.execute(sql: "ALTER TABLE notifications ADD COLUMN accountIds TEXT NOT NULL DEFAULT '[]'")
        }
        m.registerMigration("v15-login-throttle") { db in
            // Failed logins per name and address, read back into the in-memory throttle at start.
            try db.execute(sql: """
                DELETE FROM loginFailures;
                ALTER TABLE loginFailures ADD COLUMN address TEXT NOT NULL DEFAULT '';
                CREATE INDEX loginFailuresByTime ON loginFailures(at);
                """)
        }
        m.registerMigration("v16-token-times") { db in
            // A console session's last use was written as GRDB date text; all token times are seconds now.
            for column in ["createdAt", "expiresAt", "revokedAt", "lastUsedAt"] {
                try db.execute(sql: """
                    UPDATE tokens SET \(column) = (julianday(\(column)) - 2440587.5) * 86400.0
                    WHERE typeof(\(column)) = 'text' AND julianday(\(column)) IS NOT NULL
                    """)
            }
            // Text that is no date stays, and the store refuses to read it as a time.
        }
        m.registerMigration("v17-listener-times") { db in
            // Listeners and their runs were written with GRDB's date text; every stored time is seconds now.
            for (table, columns) in [("listeners", ["approvedAt", "createdAt", "updatedAt"]), ("listenerRuns", ["createdAt"])] {
                for column in columns {
                    try db.execute(sql: """
                        UPDATE \(table) SET \(column) = (julianday(\(column)) - 2440587.5) * 86400.0
                        WHERE typeof(\(column)) = 'text' AND julianday(\(column)) IS NOT NULL
                        """)
                }
            }
        }
        m.registerMigration("v18-run-lists") { db in
            // Run lists read a page of runs newest first and their tasks by run.
            try db.execute(sql: """
                CREATE INDEX rotationRunsByTime ON rotationRuns(startedAt, id);
                CREATE INDEX integrityRunsByTime ON integrityRuns(startedAt, id);
                CREATE INDEX tasksByRotationRun ON tasks(rotationRunId) WHERE rotationRunId IS NOT NULL;
                CREATE INDEX tasksByIntegrityRun ON tasks(integrityRunId) WHERE integrityRunId IS NOT NULL;
                """)
        }
        m.registerMigration("v19-epoch-dates") { db in
            // Records meant to write seconds wrote GRDB's date text (a strategy GRDB 7 no longer
            // read), beside the seconds raw SQL wrote: every such column holds seconds now, rounded to
            // the millisecond the text held (julianday's arithmetic alone lands just below it).
            let columns = [
                ("users", ["createdAt"]), ("tokens", ["createdAt", "expiresAt", "revokedAt", "lastUsedAt"]),
                ("resources", ["createdAt", "updatedAt"]), ("accounts", ["createdAt", "lastVerifiedAt", "lastChangedAt"]),
                ("groups", ["createdAt"]), ("listeners", ["approvedAt", "createdAt", "updatedAt"]), ("listenerRuns", ["createdAt"]),
            ]
            for (table, names) in columns {
                for column in names {
                    try db.execute(sql: """
                        UPDATE \(table) SET \(column) = round((julianday(\(column)) - 2440587.5) * 86400000.0) / 1000.0
                        WHERE typeof(\(column)) = 'text' AND julianday(\(column)) IS NOT NULL
                        """)
                }
            }
        }
        // Agents page by host name whatever its case; a page of agents looks up resources by host.
        m.registerMigration("v20-agent-lists") { db in
            try db.execute(sql: """
                CREATE INDEX agentsByHostNoCase ON agents(hostname COLLATE NOCASE, id);
                CREATE INDEX resourcesByHost ON resources(lower(dnsName));
                """)
        }
        m.registerMigration("v21-access-control") { db in
            try db.execute(sql: AccessControlSchema.sql(real: "REAL"))
        }
        // The address a password set in the vault came from (password history).
        // Where a password came from (password history): the request's address, the reset that set it.
        m.registerMigration("v22-secret-origin") { db in
            try db.execute(sql: """
                ALTER TABLE secrets ADD COLUMN ip TEXT; ALTER TABLE secrets ADD COLUMN taskId TEXT;
                CREATE INDEX auditByAccount ON audit(accountId, id);
                """)
        }
        m.registerMigration("v23-outbox-attachments") { db in
            try db.execute(sql: "ALTER TABLE notifications ADD COLUMN attachments TEXT")
        }
        return m
    }
}
