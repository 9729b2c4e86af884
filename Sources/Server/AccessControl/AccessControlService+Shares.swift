import Foundation

extension AccessControlService {
    /// PMP's reset on share removal: each account the ended share covered, where its resource's
    /// (or group's) rules ask for it, gets a remote reset. The share change is already stored; a
    /// reset that cannot be queued is audited as a failure.
    func shareEnded(_ target: ShareTarget, ended: [String], by p: Principal, ip: String) async {
        let at = now()
        let who = ended.joined(separator: ", ")
        let covered: [(resource: String, account: String)]
        do { covered = try await store.accounts(coveredBy: target) } catch {
            try? await audit.append(AuditEvent(user: p.username, ip: ip, operation: "queue_reset", outcome: "failure",
                message: "share of \(who) ended; the resets it calls for could not be queued: \(ResetEngine.describe(error))"))
            return
        }
        for (rid, aid) in covered {
            do {
                _ = try await store.transition(account: aid, of: rid, for: Self.system) { [targets] f, _ in
                    guard f.resetOnShareRemoval else { return AccessWrite() }
                    var w = AccessWrite()
                    func audit(_ outcome: String, _ message: String) {
                        w.audit.append(AuditEvent(user: p.username, ip: ip, operation: "queue_reset", outcome: outcome, resource: f.resource.name,
                            account: f.account.loginName, reason: "share ended: \(who)", message: message, resourceId: rid, accountId: aid))
                    }
                    // A holder who lost the share gives the password back now (and it is reset); one who
                    // still may read it keeps it, and the reset waits for the check-in.
                    let gone = f.holders.filter { h in ended.contains { $0.caseInsensitiveCompare(h.requester) == .orderedSame } }
                    if let h = gone.first {
                        var held = h
                        held.catchUp = true
                        var w = Self.checkin(held, f, by: p.username, userID: p.userID, ip: ip, how: "because \(h.requester)'s share ended",
                            reason: "share ended", at: at, targets: targets)
                        w.requests += f.holders.filter { $0.id != h.id }.map { var o = $0; o.catchUp = true; return o }
                        return w
                    }
                    if !f.holders.isEmpty {
                        w.requests = f.holders.map { var h = $0; h.catchUp = true; return h }
                        audit("success", "share of \(who) ended; the password is checked out by "
                            + f.holders.map(\.requester).joined(separator: ", ") + ": it is reset at the check-in")
                        return w
                    }
                    if f.resetUnderWay {
                        audit("success", "share of \(who) ended; a reset of this account is already under way")
                        return w
                    }
                    do {
                        try targets.resolve(f.target).checkLoginName()
                        let t = ResetEngine.newTask(.reset, f.target, by: p.username, id: p.userID, reason: "share of \(who) ended", at: at)
                        w.task = t
                        audit("success", "share of \(who) ended: task \(t.id)")
                    } catch {
                        audit("failure", "share of \(who) ended; no reset: \(ResetEngine.describe(error))")
                    }
                    return w
                }
            } catch {
                try? await audit.append(AuditEvent(user: p.username, ip: ip, operation: "queue_reset", outcome: "failure",
                    message: "share of \(who) ended; no reset: \(ResetEngine.describe(error))", resourceId: rid, accountId: aid))
            }
        }
    }
}
