import Foundation

/// Giving the password back (by its holder, forced by an administrator, or at the window's end),
/// the reset that follows, and the deadlines.
extension AccessControlService {
    /// The holder gives the password back (or an approved request it did not use); anyone else
    /// forces it, with a reason. The answer's `resetTaskId` names the reset that follows, if any.
    func checkin(_ id: String, reason: String?, by p: Principal, ip: String) async throws -> AccessRequestRecord {
        let at = now()
        let found = try await known(id, by: p)
        let forced = found.requesterId != p.userID
        if forced, (reason ?? "").trimmingWhitespace.isEmpty {
            throw DomainError.invalid("reason_required", "a forced check-in needs a reason")
        }
        let w = try await denied(p, ip, "checkin_password", rid: found.resourceId, aid: found.accountId) {
            try await store.transition(account: found.accountId, of: found.resourceId, for: p) { [authorizer, targets] f, _ in
                guard let r = f.live.first(where: { $0.id == id }) else { throw Self.notLive(id, found.state, "checked out") }
                if r.state == .pending {
                    // The requester withdraws a request that waits; nobody else ends it this way.
                    guard !forced else { throw Self.notLive(id, r.state, "checked out") }
                    var gone = r
                    (gone.state, gone.expiresAt, gone.comment) = (.expired, nil, "withdrawn by the requester")
                    return AccessWrite(requests: [gone],
                        audit: [Self.event(p.username, ip, "access_request_expired", f, gone, "request \(r.id): withdrawn by the requester")])
                }
                if forced, !(r.approverIds.contains(p.userID) && Self.eligibleRoles.contains(p.role)) {
                    try authorizer.check(p, .forceCheckin, effective: f.permission, isObject: true)
                }
                let how = forced ? "forced by \(p.username)" : "by the holder"
                return Self.checkin(r, f, by: p.username, userID: p.userID, ip: ip, how: how, reason: reason, at: at, targets: targets)
            }
        }
        guard let r = w?.requests.first(where: { $0.id == id }) else { throw DomainError.notFound("access request") }
        deadlines.poke()
        return r
    }

    /// Voids what waited too long and checks in what reached its end; returns how many it ended.
    /// One request that cannot be ended does not hold up the others; the pass then throws.
    @discardableResult
    func settleDue() async throws -> Int {
        let at = now()
        var ended = 0, failed = 0
        for due in try await store.due(at: at) {
            do {
                try await settle(due, at: at)
                ended += 1
            } catch {
                failed += 1
            }
        }
        if failed > 0 { throw DomainError(.internal, "deadline_failed", "\(failed) request(s) could not be ended at their deadline") }
        return ended
    }

    private func settle(_ due: AccessRequestRecord, at: Date) async throws {
        let w = try await store.transition(account: due.accountId, of: due.resourceId, for: Self.system) { [targets] f, _ in
            guard var r = f.live.first(where: { $0.id == due.id }) else { return AccessWrite() }
            if r.state == .checkedOut, let until = r.until, until <= at {
                return Self.checkin(r, f, by: "system", userID: nil, ip: "server", how: "at the end of its window", reason: "the checkout window ended",
                    at: at, targets: targets)
            }
            guard r.state != .checkedOut, let expires = r.expiresAt, expires <= at else { return AccessWrite() }
            let wasApproved = r.state == .approved
            r.state = .expired
            r.expiresAt = nil
            var w = AccessWrite(requests: [r])
            w.audit.append(Self.event("system", "server", "access_request_expired", f, r,
                "request \(r.id) of \(r.requester): void, " + (wasApproved ? "not checked out in time" : "not approved in time")))
            if wasApproved { Self.promoteNext(after: r, f, at: at, into: &w) }
            return w
        }
        if w == nil {
            try await store.end(due.id, as: .expired, at: at, note: "the account was deleted",
                audit: AuditEvent(user: "system", ip: "server", operation: "access_request_expired",
                    message: "request \(due.id) of \(due.requester): void, the account was deleted", resourceId: due.resourceId, accountId: due.accountId))
        }
    }

    /// The check-in of `r`: the request ends, the reset its rules (or a put-off rotation) call for is
    /// queued, and with exclusive use the next approved request in line gets its turn.
    static func checkin(_ req: AccessRequestRecord, _ f: AccessFacts, by user: String, userID: String?, ip: String, how: String, reason: String?,
        at: Date, targets: ResetTargets) -> AccessWrite
    {
        var r = req
        let wasOut = r.state == .checkedOut
        r.state = .checkedIn
        r.checkedInAt = at
        r.checkedInBy = user
        r.checkinReason = reason
        r.expiresAt = nil
        var w = AccessWrite()
        var outcome = "no reset"
        if wasOut, r.resetOnCheckin || r.catchUp {
            let why = r.resetOnCheckin ? "check-in of access request \(r.id)" : "reset put off while request \(r.id) was checked out"
            if f.resetUnderWay {
                r.resetProblem = "a reset of this account was already under way; no other was queued"
            } else {
                do {
                    try targets.resolve(f.target).checkLoginName()
                    let t = ResetEngine.newTask(.reset, f.target, by: user, id: userID, reason: why, at: at)
                    r.resetTaskId = t.id
                    w.task = t
                    outcome = "reset queued, task \(t.id)"
                } catch {
                    r.resetProblem = ResetEngine.describe(error)
                }
            }
            if let problem = r.resetProblem {
                outcome = "no reset: \(problem)"
                var n = NotificationFacts(.resetFailed)
                (n.user, n.ip, n.status) = (user, ip, "failure")
                n.message = "The check-in of access request \(r.id) (\(r.requester)) could not queue its reset: \(problem). "
                    + "The holder may still know the password."
                var notice = Notice(n, accounts: [r.accountId], users: r.approvals.map(\.userId))
                notice.about = .init(resourceId: r.resourceId, accountId: r.accountId)
                w.notices.append(notice)
            }
        }
        w.requests.append(r)
        w.audit.append(event(user, ip, "checkin_password", f, r, "request \(r.id) of \(r.requester): checked in \(how); \(outcome)",
            outcome: r.resetProblem == nil ? "success" : "failure", reason: reason))
        promoteNext(after: r, f, at: at, into: &w)
        return w
    }

    /// With exclusive use, the oldest request approved in full that waits gets its turn.
    static func promoteNext(after r: AccessRequestRecord, _ f: AccessFacts, at: Date, into w: inout AccessWrite) {
        let others = f.live.filter { $0.id != r.id }
        guard var next = others.first(where: { $0.state == .pending && $0.fullyApproved && $0.expiresAt == nil }) else { return }
        promote(&next, others, at: at)
        guard next.state == .approved else { return }
        w.requests.append(next)
        w.audit.append(event("system", "server", "access_request_ready", f, next, "request \(next.id) of \(next.requester): its turn, \(describe(next))"))
        var n = NotificationFacts(.accessDecided)
        n.status = next.state.rawValue
        n.message = "Request \(next.id): the password was checked in; you may check it out now."
        var notice = Notice(n, users: [next.requesterId])
        notice.about = .init(resourceId: next.resourceId, accountId: next.accountId)
        w.notices.append(notice)
    }

    /// A request approved in full: approved now, or (exclusive, someone else holds or may take the
    /// password) still pending, without a deadline, until its turn.
    static func promote(_ r: inout AccessRequestRecord, _ live: [AccessRequestRecord], at: Date) {
        let active = live.filter { $0.id != r.id && ($0.state == .approved || $0.state == .checkedOut) }
        // Turns keep their order: an older request approved in full that waits goes first.
        let olderWaits = live.contains { $0.id != r.id && $0.state == .pending && $0.fullyApproved && $0.expiresAt == nil && $0.createdAt < r.createdAt }
        if olderWaits || active.contains(where: { r.exclusive || $0.exclusive }) {
            r.expiresAt = nil
            return
        }
        r.state = .approved
        r.approvedAt = at
        r.expiresAt = at.addingTimeInterval(Double(r.pendingMinutes) * 60)
    }

    static func describe(_ r: AccessRequestRecord) -> String {
        switch r.state {
        case .pending:
            r.fullyApproved ? "approved, waiting for the current holder to check in"
                : "pending, \(r.approvalsRequired - r.approvals.count) approval(s) to go"
        case .approved: "approved; check it out"
        case .rejected: "rejected by \(r.decidedBy ?? "an approver")"
        case .checkedOut: "checked out until \(Notice.stamp(r.until ?? r.createdAt))"
        case .checkedIn: "checked in"
        case .expired: "void"
        }
    }

    static func checkedOut(_ h: AccessRequestRecord, _ at: Date) -> DomainError {
        DomainError(.conflict, "checked_out", "the password is checked out by \(h.requester) until \(Notice.stamp(h.until ?? at)) (request \(h.id))")
    }

    static func notLive(_ id: String, _ state: AccessRequestRecord.State, _ wanted: String) -> DomainError {
        DomainError(.conflict, "invalid_state", "request \(id) is \(state.rawValue), not \(wanted)")
    }

    static func event(_ user: String, _ ip: String, _ op: String, _ f: AccessFacts, _ r: AccessRequestRecord, _ message: String,
        outcome: String = "success", reason: String? = nil, ticketId: String? = nil) -> AuditEvent
    {
        AuditEvent(user: user, ip: ip, operation: op, outcome: outcome, resource: f.resource.name, account: f.account.loginName, reason: reason,
            ticketId: ticketId, message: message, resourceId: r.resourceId, accountId: r.accountId)
    }

    /// Who the server acts as for deadlines (the facts' permission is not used).
    static let system = Principal(userID: "", username: "system", role: .administrator, superAdmin: true, mustChangePassword: false, tokenID: "")
}
