import Foundation

/// Asking, approving, rejecting and checking out.
extension AccessControlService {
    func request(rid: String, aid: String, reason: String, minutes: Int?, ticketId: String?, by p: Principal, ip: String) async throws
        -> AccessRequestRecord
    {
        let at = now()
        guard !reason.trimmingWhitespace.isEmpty else { throw DomainError.invalid("reason_required", "a request needs a reason") }
        let w = try await denied(p, ip, "access_request", rid: rid, aid: aid) {
            try await store.transition(account: aid, of: rid, for: p) { [authorizer] f, caller in
                guard let have = f.permission else { throw DomainError.notFound("account") }
                try authorizer.check(p, .requestAccess, effective: have, isObject: true)
                guard let rules = f.policy?.policy, rules.enabled else {
                    throw DomainError(.conflict, "access_control_off", "this account is not under access control: retrieve its password directly")
                }
                let minutes = minutes ?? rules.maxMinutes
                guard (1...rules.maxMinutes).contains(minutes) else {
                    throw DomainError.invalid("invalid_field", "minutes must be 1...\(rules.maxMinutes) (the rules' maxMinutes)")
                }
                if rules.requireTicket, (ticketId ?? "").trimmingWhitespace.isEmpty {
                    throw DomainError.invalid("ticket_required", "the rules of this account require a ticketId")
                }
                if let mine = f.live.first(where: { $0.requesterId == p.userID }) {
                    throw DomainError(.conflict, "request_exists", "you already have request \(mine.id) for this account (\(mine.state.rawValue))")
                }
                // Approvers the requester made, promoted or reset are no second person for this request.
                let eligible = f.approvers.filter {
                    Self.eligibleRoles.contains($0.role) && $0.id != p.userID && !$0.beholdenTo.contains(p.userID) && caller?.isBeholdenTo($0.id) != true
                }
                let auto = f.exempt.contains(p.userID) || rules.autoApprove?.covers(at) == true
                if !auto, eligible.count < rules.approvalsRequired || (rules.approvalsRequired == 2 && !Self.independentPair(eligible)) {
                    throw DomainError(.conflict, "no_approver",
                        "the rules need \(rules.approvalsRequired) independent approval(s), and name too few administrators who can give them to you")
                }
                var r = AccessRequestRecord(id: newID(), resourceId: rid, accountId: aid, resource: f.resource.name, account: f.account.loginName, requesterId: p.userID, requester: p.username, reason: reason,
                    ticketId: ticketId, minutes: minutes, state: .pending, approverIds: eligible.map(\.id), approvalsRequired: rules.approvalsRequired,
                    exclusive: rules.exclusive, resetOnCheckin: rules.resetOnCheckin, pendingMinutes: rules.pendingMinutes, autoApproved: auto,
                    approvals: [], decidedBy: auto ? "policy" : nil, comment: nil, createdAt: at,
                    expiresAt: at.addingTimeInterval(Double(rules.pendingMinutes) * 60), approvedAt: nil, checkedOutAt: nil, until: nil,
                    checkedInAt: nil, checkedInBy: nil, checkinReason: nil, resetTaskId: nil, resetProblem: nil, catchUp: false)
                var w = AccessWrite()
                if auto { Self.promote(&r, f.live, at: at) }
                let how = auto ? (f.exempt.contains(p.userID) ? " (exempt from approval)" : " (auto-approve window)") : ""
                w.audit.append(Self.event(p.username, ip, "access_request", f, r,
                    "request \(r.id) for \(minutes) min: \(Self.describe(r))\(how)", reason: reason, ticketId: ticketId))
                var n = NotificationFacts(.accessRequested)
                (n.user, n.ip, n.reason, n.status) = (p.username, ip, reason, r.state.rawValue)
                n.message = "Request \(r.id) for \(minutes) minutes: \(Self.describe(r))\(how)."
                var notice = Notice(n, users: eligible.map(\.id))
                notice.about = .init(resourceId: rid, accountId: aid)
                w.notices.append(notice)
                w.created = r
                return w
            }
        }
        guard let r = w?.created else { throw DomainError.notFound("account") }
        deadlines.poke()
        return r
    }

    func approve(_ id: String, comment: String?, by p: Principal, ip: String) async throws -> AccessRequestRecord {
        try await decide(id, approve: true, comment: comment, by: p, ip: ip)
    }

    func reject(_ id: String, comment: String?, by p: Principal, ip: String) async throws -> AccessRequestRecord {
        try await decide(id, approve: false, comment: comment, by: p, ip: ip)
    }

    private func decide(_ id: String, approve: Bool, comment: String?, by p: Principal, ip: String) async throws -> AccessRequestRecord {
        let at = now()
        let op = approve ? "approve_access_request" : "reject_access_request"
        let found = try await known(id, by: p)
        let w = try await denied(p, ip, op, rid: found.resourceId, aid: found.accountId) {
            try await store.transition(account: found.accountId, of: found.resourceId, for: p) { [authorizer] f, caller in
                guard var r = f.live.first(where: { $0.id == id }), r.state == .pending else { throw Self.notLive(id, found.state, "pending") }
                if let e = r.expiresAt, e <= at { throw Self.notLive(id, .expired, "pending") }
                try authorizer.check(p, .decideAccess)
                guard p.userID != r.requesterId else { throw Authorizer.Denied(reason: "you may not decide your own request; an approver must") }
                guard r.approverIds.contains(p.userID) else { throw Authorizer.Denied(reason: "you are not an approver of this request") }
                if caller?.isBeholdenTo(r.requesterId) ?? true {
                    throw Authorizer.Denied(reason: "the requester created, promoted or last reset your credentials; another approver must decide")
                }
                for prior in r.approvals {
                    let theirs = f.approvers.first { $0.id == prior.userId }
                    if caller?.isBeholdenTo(prior.userId) ?? true || theirs?.beholdenTo.contains(p.userID) == true {
                        throw Authorizer.Denied(reason: "you and \(prior.username), who approved already, made, promoted or reset one another: "
                            + "a second approval must come from an independent person")
                    }
                }
                if r.approvals.contains(where: { $0.userId == p.userID }) {
                    throw DomainError(.conflict, "already_approved", "you approved this request already; it needs another person's approval")
                }
                var w = AccessWrite()
                var n = NotificationFacts(.accessDecided)
                (n.user, n.ip) = (p.username, ip)
                if approve {
                    r.approvals.append(.init(userId: p.userID, username: p.username, at: at.timeIntervalSince1970, comment: comment))
                    if r.fullyApproved { Self.promote(&r, f.live, at: at) }
                    w.audit.append(Self.event(p.username, ip, op, f, r,
                        "request \(r.id) of \(r.requester): approval \(r.approvals.count) of \(r.approvalsRequired); \(Self.describe(r))", reason: comment))
                } else {
                    r.state = .rejected
                    r.decidedBy = p.username
                    r.comment = comment
                    r.expiresAt = nil
                    w.audit.append(Self.event(p.username, ip, op, f, r, "request \(r.id) of \(r.requester): rejected", reason: comment))
                }
                if r.state != .pending || !approve {
                    n.status = r.state.rawValue
                    n.message = "Request \(r.id): \(Self.describe(r))." + (comment.map { " Comment: \($0)" } ?? "")
                    var notice = Notice(n, users: [r.requesterId])
                    notice.about = .init(resourceId: r.resourceId, accountId: r.accountId)
                    w.notices.append(notice)
                }
                w.requests = [r]
                return w
            }
        }
        guard let r = w?.requests.first else { throw DomainError.notFound("access request") }
        deadlines.poke()
        return r
    }

    func checkout(_ id: String, by p: Principal, ip: String) async throws -> AccessRequestRecord {
        let at = now()
        let found = try await known(id, by: p)
        let w = try await store.transition(account: found.accountId, of: found.resourceId, for: p) { f, _ in
            guard var r = f.live.first(where: { $0.id == id }) else { throw Self.notLive(id, found.state, "approved") }
            guard r.requesterId == p.userID else { throw DomainError.forbidden("only the requester checks the password out") }
            guard f.permission != nil else { throw DomainError.forbidden("the account is no longer shared with you") }
            switch r.state {
            case .approved:
                if let e = r.expiresAt, e <= at { throw Self.notLive(id, .expired, "approved") }
            case .checkedOut: throw DomainError(.conflict, "checked_out", "request \(id) is checked out already, until \(Notice.stamp(r.until ?? at))")
            default: throw DomainError(.conflict, "not_approved", "request \(id) is \(Self.describe(r))")
            }
            // Exclusive use either way: this request's, or a holder's.
            if let h = f.holders.first(where: { $0.id != id && (r.exclusive || $0.exclusive) }) { throw Self.checkedOut(h, at) }
            if f.resetUnderWay {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way; check out once it has ended")
            }
            r.state = .checkedOut
            r.checkedOutAt = at
            r.until = at.addingTimeInterval(Double(r.minutes) * 60)
            r.expiresAt = nil
            var w = AccessWrite(requests: [r])
            w.audit.append(Self.event(p.username, ip, "checkout_password", f, r, "request \(r.id): checked out until \(Notice.stamp(r.until!))"))
            return w
        }
        guard let r = w?.requests.first else { throw DomainError.notFound("access request") }
        deadlines.poke()
        return r
    }

    /// A request the caller may see: its requester, one of its approvers, or anyone who sees the
    /// account (its requests are part of its history).
    func known(_ id: String, by p: Principal) async throws -> AccessRequestRecord {
        guard let r = try await store.request(id) else { throw DomainError.notFound("access request") }
        if p.superAdmin || r.requesterId == p.userID || r.approverIds.contains(p.userID) { return r }
        if let f = try await store.facts(account: r.accountId, of: r.resourceId, for: p), f.permission != nil { return r }
        throw DomainError.notFound("access request")
    }

    /// Runs `body`; a refusal by the authorizer is audited before it is answered.
    func denied<T>(_ p: Principal, _ ip: String, _ op: String, rid: String, aid: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let d as Authorizer.Denied {
            try await audit.append(AuditEvent(user: p.username, ip: ip, operation: op, outcome: "denied", message: d.reason, resourceId: rid, accountId: aid))
            throw d
        }
    }
}
