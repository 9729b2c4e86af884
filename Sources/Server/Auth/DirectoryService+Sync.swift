import Foundation
import Shared

/// The directory sync: the imports of `directorySync` re-run, on demand or daily, as the
/// super-administrator who saved them. Additions and removals are audited by each import; a
/// removal disables a user or marks a domain account `missing`, never deletes.
extension DirectoryService {
    /// `POST /directory/sync` (super-administrators): runs now, whatever the schedule.
    func syncNow(with s: DirectoryImportServices, by p: Principal, ip: String) async throws -> DirectorySyncReport {
        try authorizer.check(p, .createUser)
        guard p.superAdmin else { throw DomainError.forbidden("only a super-administrator runs the directory sync (it can make administrators)") }
        guard let sync = try await store.directory()?.body.directorySync else {
            return DirectorySyncReport(ok: false, error: "no directorySync is set in the directory settings")
        }
        return try await run(sync, with: s, trigger: "run by \(p.username)", ip: ip)
    }

    /// The scheduler's: runs the sync when its daily time has come (one node, once).
    func syncDue(with s: DirectoryImportServices) async throws -> DirectorySyncReport? {
        guard let sync = try await store.directory()?.body.directorySync, sync.dailyAt != nil else { return nil }
        let at = now()
        guard try await store.claimSync(at: at, due: { sync.due(at: at, last: $0.lastRunAt) }) else { return nil }
        return try await run(sync, with: s, trigger: "daily", ip: "server")
    }

    /// Each import in turn; one that fails is reported and the others still run, and the run's
    /// summary is audited whatever happened.
    private func run(_ sync: DirectorySync, with s: DirectoryImportServices, trigger: String, ip: String) async throws -> DirectorySyncReport {
        var report = DirectorySyncReport()
        guard let owner = try await owner() else {
            (report.ok, report.error) = (false, "the super-administrator who saved the sync no longer is one: save the directory settings again")
            try await audit.append(AuditEvent(user: "system", ip: ip, operation: "directory_sync", outcome: "failure",
                message: "\(trigger): \(report.error ?? "")"))
            return report
        }
        func failed(_ message: String) { if report.ok { (report.ok, report.error) = (false, message) } }
        if let users = sync.users {
            do {
                let r = try await importUsers(users, removals: true, by: owner, ip: ip)
                (report.users, report.disabled) = (r, r.disabled)
                if !r.ok { failed(r.error ?? "the users' import failed") }
            } catch { failed("the users' import stopped: \(Self.describe(error))") }
        }
        for b in sync.resources ?? [] {
            do {
                let r = try await importResources(b, with: s, removals: true, by: owner, ip: ip)
                report.resources.append(r)
                if !r.ok { failed(r.error ?? "a resources' import failed") }
            } catch {
                report.resources.append(DirectoryResourcesReport(ok: false, error: Self.describe(error)))
                failed("a resources' import stopped: \(Self.describe(error))")
            }
        }
        let added = (report.users?.created.count ?? 0) + report.resources.reduce(0) { $0 + $1.created.count + ($1.accounts?.created.count ?? 0) }
        let missing = report.resources.reduce(0) { $0 + ($1.accounts?.missing.count ?? 0) }
        try await audit.append(AuditEvent(user: owner.username, ip: ip, operation: "directory_sync", outcome: report.ok ? "success" : "failure",
            message: "\(trigger): \(added) added, \(report.disabled.count) user(s) disabled, \(missing) account(s) missing"
                + (report.error.map { "; \($0)" } ?? "")))
        return report
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DomainError { return e.message }
        if let e = error as? StoreError { return e.message }
        if let e = error as? Authorizer.Denied { return e.reason }
        return "\(type(of: error))"
    }

    /// Who the sync acts as: the super-administrator who saved it, while still one (and an administrator).
    private func owner() async throws -> Principal? {
        guard let id = try await store.syncState().owner, let u = try await users.user(id: id), u.superAdmin, u.role == .administrator,
            !u.isDirectoryUser
        else { return nil }
        return Principal(userID: u.id, username: u.username, role: u.role, superAdmin: true, mustChangePassword: false, tokenID: "directory-sync")
    }
}
