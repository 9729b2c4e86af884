import Foundation
import Shared

/// Reading an account's password and changing it in the vault (a local change; a remote one is the
/// `ResetEngine`'s). Authorization inside, so the API and the console get one answer.
struct PasswordService: Sendable {
    let store: any PasswordStore
    let audit: AuditTrail
    let authorizer: Authorizer
    let now: @Sendable () -> Date
    /// Access control: who may read or change a password now.
    var access: AccessControlService? = nil

    /// The current password and, while a reset is unresolved, its candidates: checked, with the
    /// reason rule, and audited (a refusal is audited too, outside the rolled-back transaction).
    func retrieve(rid: String, aid: String, by p: Principal, reason: String?, ticketId ticket: String?, ip: String) async throws -> Retrieved {
        let found: Retrieval
        do {
            var gate: (@Sendable (AccessGateFacts) throws -> AccessRequestRecord?)? = nil
            if let access { gate = { facts in try access.decideRetrieval(facts, rid: rid, aid: aid, by: p) } }
            found = try await store.retrieve(aid, of: rid, visibleTo: p, gate: gate, authorize: authorizer.on(p, .retrievePassword),
                check: { required in
                    if required, (reason ?? "").trimmingWhitespace.isEmpty {
                        throw DomainError.invalid("reason_required", "a reason is required to retrieve passwords")
                    }
                },
                audit: { r, a, candidates, held in
                    AuditEvent(user: p.username, ip: ip, operation: "retrieve_password", resource: r.name, account: a.loginName, reason: reason,
                        ticketId: ticket, message: Self.note(candidates: candidates, held: held),
                        resourceId: r.id, accountId: a.id)
                })
        } catch let denied as Authorizer.Denied {
            try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "retrieve_password",
                outcome: "denied", reason: reason, ticketId: ticket, message: denied.reason, resourceId: rid, accountId: aid))
            throw denied
        } catch let refused as DomainError where ["checked_out", "access_request_required"].contains(refused.code) {
            try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "retrieve_password",
                outcome: "denied", reason: reason, ticketId: ticket, message: refused.message, resourceId: rid, accountId: aid))
            throw refused
        }
        switch found {
        case .notVisible: throw DomainError.notFound("account")
        case .noPassword:
            throw DomainError(.conflict, "password_unknown", "no password of this account is known yet: its first reset (or a password set in the vault) gives it one")
        case .found(let got): return got
        }
    }

    /// The account's password history: metadata to whoever may read the account; with `reveal`,
    /// the old passwords too, to those who may retrieve the current one now (access control
    /// included), with a reason, audited (`retrieve_password_history`; a refusal too).
    func history(rid: String, aid: String, by p: Principal, reveal: Bool, reason: String?, ticketId ticket: String?, ip: String) async throws
        -> [PasswordVersion]
    {
        let found: [PasswordVersion]?
        if !reveal {
            found = try await store.history(aid, of: rid, visibleTo: p, authorize: authorizer.on(p, .readAccount), reveal: nil)
        } else {
            guard let why = reason, !why.trimmingWhitespace.isEmpty else {
                throw DomainError.invalid("reason_required", "a reason is required to see old passwords")
            }
            do {
                let held = try await access?.gateRetrieval(rid: rid, aid: aid, by: p)
                found = try await store.history(aid, of: rid, visibleTo: p, authorize: authorizer.on(p, .retrievePassword),
                    reveal: { r, a, n in
                        AuditEvent(user: p.username, ip: ip, operation: "retrieve_password_history", resource: r.name, account: a.loginName,
                            reason: why, ticketId: ticket, message: "\(n) versions" + (Self.note(candidates: 0, held: held).map { "; \($0)" } ?? ""),
                            resourceId: r.id, accountId: a.id)
                    })
            } catch let denied as Authorizer.Denied {
                try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "retrieve_password_history", outcome: "denied", reason: why,
                    ticketId: ticket, message: denied.reason, resourceId: rid, accountId: aid))
                throw denied
            } catch let refused as DomainError where ["checked_out", "access_request_required"].contains(refused.code) {
                try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "retrieve_password_history", outcome: "denied", reason: why,
                    ticketId: ticket, message: refused.message, resourceId: rid, accountId: aid))
                throw refused
            }
        }
        guard var found else { throw DomainError.notFound("account") }
        // Where a change came from is audit information.
        if !Authorizer.roleAllows(p.role, .readAudit) { for i in found.indices { found[i].ip = nil } }
        return found
    }

    static func note(candidates: Int, held: AccessRequestRecord?) -> String? {
        let parts = [candidates == 0 ? nil : "with \(candidates) candidate password(s) of an unresolved reset",
            held.map { "under access request \($0.id), checked out until \(Notice.stamp($0.until ?? Date()))" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// Changes the password in the vault only: the given one (checked against the policy and its
    /// history) or one generated for the policy.
    func changeLocally(rid: String, aid: String, by p: Principal, newPassword given: Secret?, reason: String?, ticketId: String?, ip: String)
        async throws
    {
        try await access?.gateChange(rid: rid, aid: aid, by: p, chosen: given != nil)
        let changed = try await store.changeLocally(aid, of: rid, visibleTo: p, at: now(), authorize: authorizer.on(p, .changePassword),
            decide: { facts in
                let policy = facts.policy
                let new: Secret
                if let given {
                    let problems = policy.violations(of: given, loginName: facts.account.loginName)
                    if !problems.isEmpty {
                        throw DomainError.invalid("policy_violation", "the password breaks policy \(policy.name): \(problems.joined(separator: "; "))")
                    }
                    new = given
                } else {
                    new = try Self.generate(policy, facts.account.loginName)
                }
                if facts.recent.contains(new) {
                    throw DomainError.invalid("password_reused", "the password was used in the last \(policy.historyDepth) changes")
                }
                return new
            },
            listenerTrigger: "local change by \(p.username)",
            audit: { r, a in
                AuditEvent(user: p.username, ip: ip, operation: "change_password", resource: r.name, account: a.loginName, reason: reason,
                    ticketId: ticketId, message: "local change" + (given == nil ? " (generated)" : ""), resourceId: r.id, accountId: a.id)
            },
            notice: { r, a in
                var f = NotificationFacts(.passwordChanged)
                (f.user, f.ip, f.resource, f.account, f.reason) = (p.username, ip, r.name, a.loginName, reason)
                f.message = "Changed in the vault only (local change)."
                return Notice(f, accounts: [a.id])
            })
        guard changed else { throw DomainError.notFound("account") }
    }

    /// A password generated for the account's policy (the console's "generate"); nothing is stored.
    func generate(rid: String, aid: String, by p: Principal) async throws -> Secret {
        guard let (a, policy) = try await store.policy(ofAccount: aid, of: rid, visibleTo: p, authorize: authorizer.on(p, .changePassword))
        else { throw DomainError.notFound("account") }
        return try Self.generate(policy, a.loginName)
    }

    /// The policy that governs the account.
    func policy(rid: String, aid: String, by p: Principal) async throws -> PasswordPolicy {
        guard let (_, policy) = try await store.policy(ofAccount: aid, of: rid, visibleTo: p, authorize: authorizer.on(p, .readAccount))
        else { throw DomainError.notFound("account") }
        return policy
    }

    static func generate(_ policy: PasswordPolicy, _ loginName: String) throws -> Secret {
        do { return try PasswordGenerator().generate(for: policy, loginName: loginName) } catch {
            throw DomainError.invalid("policy_unusable", error.description)
        }
    }
}
