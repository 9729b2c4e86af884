import Foundation
import Logging

/// The PostgreSQL schema, as ordered migrations, the same tables and columns as SQLite's after
/// its v17 (names fold to lower case; `COLLATE nocase` is an ICU case-insensitive collation;
/// `secrets.seq` orders rows written in the same instant, as SQLite's rowid does; `tasks.claimedBy`
/// `leaseUntil`, `takenFrom`, `claimToken`, `agentJobs.taskId` and the `nodes` table are the
/// cluster's own).
/// Whichever node starts first applies them, holding a session advisory lock, so two nodes starting
/// together never apply one twice. Never edit a shipped migration; add one.
enum PGMigrations {
    static let all: [(id: String, sql: String)] = [("pg1", schema), ("pg2-audit-append-only", auditAppendOnly), ("pg3-notify", notify), ("pg4-claim-token", claimToken),
        ("pg5-run-lists", runLists), ("pg6-agent-lists", agentLists),
        ("pg7-access-control", AccessControlSchema.sql(real: "DOUBLE PRECISION")), ("pg8-secret-origin", "ALTER TABLE secrets ADD COLUMN ip TEXT, ADD COLUMN taskId TEXT;\nCREATE INDEX auditByAccount ON audit(accountId, id);"),
        ("pg9-outbox-attachments", "ALTER TABLE notifications ADD COLUMN attachments TEXT;")]

    /// Applies what is missing; the identifiers of those it applied.
    @discardableResult
    static func migrate(_ db: PGDatabase) async throws -> [String] {
        try await db.read { c in
            try await c.execute("SELECT pg_advisory_lock(?)", [PGDatabase.LockKey.migrations.rawValue])
            do {
                try await c.execute("CREATE TABLE IF NOT EXISTS custody_migrations (id TEXT PRIMARY KEY, appliedAt DOUBLE PRECISION NOT NULL)")
                let done = Set(try await c.column(String.self, "SELECT id FROM custody_migrations"))
                var applied: [String] = []
                for m in all where !done.contains(m.id) {
                    try await c.execute("BEGIN")
                    do {
                        for statement in statements(m.sql) { try await c.execute(statement) }
                        try await c.execute("INSERT INTO custody_migrations (id, appliedAt) VALUES (?, ?)", [m.id, Date()])
                        try await c.execute("COMMIT")
                    } catch {
                        try? await c.execute("ROLLBACK")
                        throw error
                    }
                    applied.append(m.id)
                }
                try await c.execute("SELECT pg_advisory_unlock(?)", [PGDatabase.LockKey.migrations.rawValue])
                return applied
            } catch {
                try? await c.execute("SELECT pg_advisory_unlock(?)", [PGDatabase.LockKey.migrations.rawValue])
                throw error
            }
        }
    }

    /// A migration's statements: each ends with `;` at the end of a line (a function body's inner
    /// `;` never does).
    static func statements(_ sql: String) -> [String] {
        (sql + "\n").components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    static let schema = """
        CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
        CREATE TABLE users (
          id TEXT PRIMARY KEY, username TEXT COLLATE nocase NOT NULL UNIQUE,
          passwordHash TEXT NOT NULL, role TEXT NOT NULL, superAdmin INTEGER NOT NULL DEFAULT 0,
          email TEXT, mustChangePassword INTEGER NOT NULL DEFAULT 0, createdAt DOUBLE PRECISION NOT NULL,
          createdById TEXT, promotedById TEXT, credentialsResetById TEXT);
        CREATE TABLE userGroups (id TEXT PRIMARY KEY, name TEXT COLLATE nocase NOT NULL UNIQUE);
        CREATE TABLE userGroupMembers (
          groupId TEXT NOT NULL REFERENCES userGroups(id) ON DELETE CASCADE,
          userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (groupId, userId));
        CREATE TABLE tokens (
          id TEXT PRIMARY KEY, userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          name TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
          createdAt DOUBLE PRECISION NOT NULL, expiresAt DOUBLE PRECISION, revokedAt DOUBLE PRECISION, lastUsedAt DOUBLE PRECISION);
        CREATE TABLE loginFailures (username TEXT COLLATE nocase NOT NULL, at DOUBLE PRECISION NOT NULL, address TEXT NOT NULL DEFAULT '');
        CREATE INDEX loginFailuresByName ON loginFailures(username, at);
        CREATE INDEX loginFailuresByTime ON loginFailures(at);
        CREATE TABLE policies (name TEXT COLLATE nocase PRIMARY KEY, builtIn INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE TABLE resourceTypes (name TEXT COLLATE nocase PRIMARY KEY, plugin TEXT NOT NULL, builtIn INTEGER NOT NULL);
        CREATE TABLE resources (
          id TEXT PRIMARY KEY, name TEXT COLLATE nocase NOT NULL UNIQUE, dnsName TEXT NOT NULL,
          type TEXT NOT NULL, description TEXT, department TEXT, location TEXT, url TEXT,
          customFields TEXT NOT NULL DEFAULT '{}', passwordPolicy TEXT, ownerId TEXT NOT NULL REFERENCES users(id),
          createdAt DOUBLE PRECISION NOT NULL, updatedAt DOUBLE PRECISION NOT NULL);
        CREATE TABLE accounts (
          id TEXT PRIMARY KEY, resourceId TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
          loginName TEXT NOT NULL, description TEXT, notes TEXT, customFields TEXT NOT NULL DEFAULT '{}',
          syncStatus TEXT NOT NULL DEFAULT 'neverChecked', lastVerifiedAt DOUBLE PRECISION, lastChangedAt DOUBLE PRECISION,
          createdAt DOUBLE PRECISION NOT NULL, UNIQUE (resourceId, loginName));
        CREATE TABLE secrets (
          id TEXT PRIMARY KEY, accountId TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
          state TEXT NOT NULL, sealed BYTEA NOT NULL, createdAt DOUBLE PRECISION NOT NULL, createdBy TEXT NOT NULL,
          seq BIGINT GENERATED ALWAYS AS IDENTITY);
        CREATE INDEX secretsByAccount ON secrets(accountId, state, createdAt);
        CREATE TABLE groups (
          id TEXT PRIMARY KEY, name TEXT COLLATE nocase NOT NULL UNIQUE, ownerId TEXT NOT NULL REFERENCES users(id),
          passwordPolicy TEXT, createdAt DOUBLE PRECISION NOT NULL);
        CREATE TABLE groupResources (
          groupId TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
          resourceId TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE, PRIMARY KEY (groupId, resourceId));
        CREATE TABLE shares (
          objectKind TEXT NOT NULL, objectId TEXT NOT NULL, principalKind TEXT NOT NULL,
          principalId TEXT NOT NULL, permission TEXT NOT NULL,
          PRIMARY KEY (objectKind, objectId, principalKind, principalId));
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE vaultMeta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
        CREATE TABLE audit (
          id BIGINT PRIMARY KEY, at DOUBLE PRECISION NOT NULL, "user" TEXT NOT NULL, ip TEXT NOT NULL,
          operation TEXT NOT NULL, resource TEXT, account TEXT, reason TEXT, ticketId TEXT,
          outcome TEXT NOT NULL, message TEXT, resourceId TEXT, accountId TEXT,
          prevHash TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE INDEX auditByResource ON audit(resourceId, id);
        CREATE TABLE resetConfigs (
          resourceId TEXT PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE, json TEXT NOT NULL);
        CREATE TABLE tasks (
          id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, phase TEXT NOT NULL, via TEXT NOT NULL,
          resourceId TEXT NOT NULL, accountId TEXT NOT NULL, host TEXT NOT NULL, requestedBy TEXT NOT NULL,
          requestedById TEXT, newPasswordGiven INTEGER NOT NULL DEFAULT 0, pendingSecretId TEXT,
          attempts INTEGER NOT NULL DEFAULT 0, resultCode TEXT, resultMessage TEXT, reason TEXT, ticketId TEXT,
          createdAt DOUBLE PRECISION NOT NULL, startedAt DOUBLE PRECISION, finishedAt DOUBLE PRECISION,
          notBefore DOUBLE PRECISION NOT NULL DEFAULT 0, notAfter DOUBLE PRECISION, rotationRunId TEXT, integrityRunId TEXT,
          reconcileAttempts INTEGER NOT NULL DEFAULT 0, claimedBy TEXT, leaseUntil DOUBLE PRECISION, takenFrom TEXT);
        CREATE INDEX tasksByState ON tasks(state, notBefore, createdAt);
        CREATE INDEX tasksByRequester ON tasks(requestedById, createdAt);
        CREATE UNIQUE INDEX oneActiveResetPerAccount ON tasks(accountId)
          WHERE kind = 'reset' AND state IN ('queued', 'running', 'unknown');
        CREATE TABLE listeners (
          id TEXT PRIMARY KEY, name TEXT COLLATE nocase NOT NULL UNIQUE, kind TEXT NOT NULL,
          resourceTypes TEXT NOT NULL, sealedScript BYTEA, executable TEXT, sha256 TEXT, preCommand TEXT,
          additionalParameters TEXT NOT NULL, secretsVia TEXT NOT NULL, timeoutSeconds DOUBLE PRECISION NOT NULL,
          status TEXT NOT NULL, revision INTEGER NOT NULL, authorId TEXT NOT NULL, approverId TEXT NOT NULL,
          approvedById TEXT, approvedAt DOUBLE PRECISION, createdAt DOUBLE PRECISION NOT NULL, updatedAt DOUBLE PRECISION NOT NULL);
        CREATE TABLE listenerRuns (
          id TEXT PRIMARY KEY, listenerId TEXT NOT NULL REFERENCES listeners(id) ON DELETE CASCADE,
          revision INTEGER NOT NULL, resourceId TEXT NOT NULL, accountId TEXT NOT NULL, trigger TEXT NOT NULL,
          sealedSecrets BYTEA NOT NULL, state TEXT NOT NULL, createdAt DOUBLE PRECISION NOT NULL, claimedBy TEXT);
        CREATE INDEX listenerRunsByState ON listenerRuns(state, createdAt);
        CREATE TABLE rotations (
          groupId TEXT PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE, json TEXT NOT NULL,
          savedAt DOUBLE PRECISION NOT NULL, savedBy TEXT NOT NULL, lastRunAt DOUBLE PRECISION);
        CREATE TABLE rotationRuns (
          id TEXT PRIMARY KEY, groupId TEXT NOT NULL, trigger TEXT NOT NULL, requestedBy TEXT NOT NULL,
          startedAt DOUBLE PRECISION NOT NULL, entries TEXT NOT NULL, noticedAt DOUBLE PRECISION);
        CREATE INDEX rotationRunsByGroup ON rotationRuns(groupId, startedAt);
        CREATE TABLE integrityRuns (
          id TEXT PRIMARY KEY, trigger TEXT NOT NULL, requestedBy TEXT NOT NULL, startedAt DOUBLE PRECISION NOT NULL, entries TEXT NOT NULL);
        CREATE TABLE expiries (
          accountId TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE, changedAt DOUBLE PRECISION NOT NULL,
          notedAt DOUBLE PRECISION NOT NULL);
        CREATE TABLE notifications (
          id TEXT PRIMARY KEY, event TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL,
          body TEXT NOT NULL, fields TEXT NOT NULL, createdAt DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
          nextAttemptAt DOUBLE PRECISION NOT NULL, lastError TEXT, sentAt DOUBLE PRECISION, accountIds TEXT NOT NULL DEFAULT '[]');
        CREATE INDEX notificationsDue ON notifications(state, nextAttemptAt);
        CREATE INDEX notificationsByTime ON notifications(createdAt);
        CREATE TABLE notificationRules (event TEXT PRIMARY KEY, json TEXT NOT NULL, savedAt DOUBLE PRECISION NOT NULL, savedBy TEXT NOT NULL);
        CREATE TABLE notificationTemplates (
          event TEXT PRIMARY KEY, subject TEXT NOT NULL, body TEXT NOT NULL, savedAt DOUBLE PRECISION NOT NULL, savedBy TEXT NOT NULL);
        CREATE TABLE notificationMarks (key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
        CREATE TABLE agents (
          id TEXT PRIMARY KEY, hostname TEXT NOT NULL, os TEXT NOT NULL, arch TEXT NOT NULL, version TEXT NOT NULL,
          signingKey BYTEA NOT NULL, sealingKey BYTEA NOT NULL, resourceId TEXT, enrolledAt DOUBLE PRECISION NOT NULL,
          lastSeenAt DOUBLE PRECISION NOT NULL, revokedAt DOUBLE PRECISION);
        CREATE INDEX agentsByHost ON agents(hostname);
        CREATE TABLE enrollmentTokens (
          digest TEXT PRIMARY KEY, os TEXT NOT NULL, resourceId TEXT, createdBy TEXT NOT NULL, createdAt DOUBLE PRECISION NOT NULL,
          expiresAt DOUBLE PRECISION NOT NULL, usedAt DOUBLE PRECISION, agentId TEXT);
        CREATE TABLE agentNonces (nonce TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
        CREATE INDEX agentNoncesByTime ON agentNonces(at);
        CREATE TABLE agentJobs (
          id TEXT PRIMARY KEY, agentId TEXT NOT NULL, operation TEXT NOT NULL, encapsulatedKey BYTEA NOT NULL,
          ciphertext BYTEA NOT NULL, state TEXT NOT NULL, leaseId TEXT, leaseExpiresAt DOUBLE PRECISION, result TEXT,
          createdAt DOUBLE PRECISION NOT NULL, queueDeadline DOUBLE PRECISION NOT NULL);
        CREATE INDEX agentJobsByAgent ON agentJobs(agentId, state, createdAt);
        CREATE TABLE totp (userId TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE, sealed BYTEA NOT NULL,
          enabled INTEGER NOT NULL DEFAULT 0, lastStep BIGINT NOT NULL DEFAULT 0, createdAt DOUBLE PRECISION NOT NULL);
        CREATE TABLE agentBindings (
          resourceId TEXT PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
          agentId TEXT NOT NULL REFERENCES agents(id), approvedBy TEXT NOT NULL, approvedAt DOUBLE PRECISION NOT NULL);
        CREATE INDEX agentBindingsByAgent ON agentBindings(agentId);
        CREATE TABLE nodes (
          id TEXT PRIMARY KEY, version TEXT NOT NULL, startedAt DOUBLE PRECISION NOT NULL, heartbeatAt DOUBLE PRECISION NOT NULL);
        """

    /// The audit trail refuses UPDATE, DELETE and TRUNCATE, from any client, as SQLite's triggers do.
    static let auditAppendOnly = """
        CREATE FUNCTION custody_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit is append-only' USING ERRCODE = 'insufficient_privilege'; END $$;
        CREATE TRIGGER auditNoChange BEFORE UPDATE OR DELETE ON audit
          FOR EACH ROW EXECUTE FUNCTION custody_audit_append_only();
        CREATE TRIGGER auditNoTruncate BEFORE TRUNCATE ON audit
          FOR EACH STATEMENT EXECUTE FUNCTION custody_audit_append_only();
        """

    /// Changes other nodes must hear of at once (`PGNotifications`): any change to `tasks`, and a
    /// change to an agent's jobs, named by the agent. Delivered when the transaction commits.
    static let notify = """
        CREATE FUNCTION custody_notify_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('custody_tasks', ''); RETURN NULL; END $$;
        CREATE TRIGGER tasksNotify AFTER INSERT OR UPDATE OR DELETE ON tasks
          FOR EACH STATEMENT EXECUTE FUNCTION custody_notify_tasks();
        CREATE FUNCTION custody_notify_agent_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('custody_agent_jobs', NEW.agentId); RETURN NULL; END $$;
        CREATE TRIGGER agentJobsNotify AFTER INSERT OR UPDATE ON agentJobs
          FOR EACH ROW EXECUTE FUNCTION custody_notify_agent_jobs();
        """

    /// A claim's token fences every write of the run it started (`PGTaskStore.requireHeld`); an
    /// agent job names its task, so a task taken over withdraws what its run queued.
    static let claimToken = """
        ALTER TABLE tasks ADD COLUMN claimToken TEXT;
        ALTER TABLE agentJobs ADD COLUMN taskId TEXT;
        CREATE INDEX agentJobsByTask ON agentJobs(taskId) WHERE taskId IS NOT NULL;
        """

    static let runLists = """
        CREATE INDEX rotationRunsByTime ON rotationRuns(startedAt, id);
        CREATE INDEX integrityRunsByTime ON integrityRuns(startedAt, id);
        CREATE INDEX tasksByRotationRun ON tasks(rotationRunId) WHERE rotationRunId IS NOT NULL;
        CREATE INDEX tasksByIntegrityRun ON tasks(integrityRunId) WHERE integrityRunId IS NOT NULL;
        """

    /// Agents page by host name whatever its case; a page of agents looks up resources by host.
    static let agentLists = """
        CREATE INDEX agentsByHostNoCase ON agents((hostname COLLATE nocase), id);
        CREATE INDEX resourcesByHost ON resources(lower(dnsName));
        """
}
