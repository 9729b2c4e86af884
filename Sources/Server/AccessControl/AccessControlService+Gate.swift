import Foundation

/// What the workflow means for the rest of the server: who may read or change a password now,
/// and the lists of requests.
extension AccessControlService {
    /// Before a retrieval: nil when access control does not apply, the caller's checked-out request
    /// when it holds the password; else refused (409 `checked_out` while someone else holds it,
    /// 403 `access_request_required` under access control). A caller who cannot see the account
    /// passes, so the store answers 404 as before.
    func gateRetrieval(rid: String, aid: String, by p: Principal) async throws -> AccessRequestRecord? {
        guard let f = try await store.gate(account: aid, of: rid, for: p) else { return nil }
        return try decideRetrieval(f, rid: rid, aid: aid, by: p)
    }

    /// `gateRetrieval`'s decision on facts read by the caller (a retrieval reads them in its own transaction).
    func decideRetrieval(_ f: AccessGateFacts, rid: String, aid: String, by p: Principal) throws -> AccessRequestRecord? {
        guard f.permission != nil else { return nil }
        let at = now()
        // A checkout past its end gives nothing, even before the deadline service has checked it in.
        let holders = f.holders.filter { $0.requesterId != p.userID || ($0.until ?? at) > at }
        if let mine = holders.first(where: { $0.requesterId == p.userID }) { return mine }
        if let h = holders.first(where: \.exclusive) { throw Self.checkedOut(h, at) }
        guard f.enabled else { return nil }
        throw DomainError(.forbidden, "access_request_required",
            "the password of this account is under access control: request access (POST /resources/\(rid)/accounts/\(aid)/access-requests), "
                + "then check it out once approved")
    }

    /// Before a change of the password (local or remote): refused while someone else holds it; and
    /// under access control, a password the changer chooses (`chosen`) takes a checkout, or the
    /// changer would know it without approval.
    func gateChange(rid: String, aid: String, by p: Principal, chosen: Bool) async throws {
        guard let f = try await store.gate(account: aid, of: rid, for: p), f.permission != nil else { return }
        let at = now()
        if f.holders.contains(where: { $0.requesterId == p.userID && ($0.until ?? at) > at }) { return }
        if let h = f.holders.first(where: { $0.requesterId != p.userID }) { throw Self.checkedOut(h, at) }
        if f.enabled, chosen {
            throw DomainError(.forbidden, "access_request_required",
                "this account is under access control: choosing its password takes a checkout (a generated one does not)")
        }
    }

    /// `mine`: the caller's; `awaiting`: pending ones it may approve; neither: those it made or may
    /// decide (a super-administrator: all).
    func list(mine: Bool, awaiting: Bool, state: AccessRequestRecord.State?, accountId: String?, _ page: PageRequest, by p: Principal)
        async throws -> Page<AccessRequestRecord>
    {
        guard !(mine && awaiting) else { throw DomainError.invalid("invalid_parameter", "ask for mine=true or awaiting=me, not both") }
        var page = page
        if let c = page.after {
            guard let t = Double(c.key), t.isFinite, t >= 0, t < 1e11 else {
                throw DomainError.invalid("invalid_cursor", "cursor is not one this server gave: use the X-Next-Cursor of the previous page")
            }
            page.after = PageCursor(key: String(t), id: c.id)
        }
        let who: AccessRequestFilter.Who = mine ? .mine(p.userID) : awaiting ? .awaiting(p.userID) : p.superAdmin ? .all : .involving(p.userID)
        return try await store.requests(AccessRequestFilter(who: who, state: state, accountId: accountId), page)
    }

    func show(_ id: String, by p: Principal) async throws -> AccessRequestRecord { try await known(id, by: p) }

    /// How many requests wait for the caller's approval (the console's badge).
    func awaitingCount(by p: Principal) async throws -> Int {
        guard Self.eligibleRoles.contains(p.role) else { return 0 }
        return try await store.requests(AccessRequestFilter(who: .awaiting(p.userID)), PageRequest(limit: 99)).items.count
    }
}

/// What the API shows of a request.
struct AccessRequestView: Codable, Sendable {
    struct Approval: Codable, Sendable {
        var user: String
        var at: Date
        var comment: String?
    }
    var id, resourceId, accountId, resource, account, requester, reason, state: String
    var ticketId: String?
    var minutes, approvalsRequired: Int
    var approvals: [Approval]
    var exclusive, resetOnCheckin, autoApproved: Bool
    /// Approved in full and waiting for the current holder to check in.
    var waitingForHolder: Bool
    var decidedBy, comment: String?
    var createdAt: Date
    var expiresAt, approvedAt, checkedOutAt, until, checkedInAt: Date?
    var checkedInBy, checkinReason, resetTaskId, resetProblem: String?
    /// The reset a check-in queued (the same as `resetTaskId`).
    var taskId: String?

    init(_ r: AccessRequestRecord) {
        (id, resourceId, accountId, resource, account, requester, reason, state) =
            (r.id, r.resourceId, r.accountId, r.resource, r.account, r.requester, r.reason, r.state.rawValue)
        (ticketId, minutes, approvalsRequired) = (r.ticketId, r.minutes, r.approvalsRequired)
        approvals = r.approvals.map { Approval(user: $0.username, at: Date(timeIntervalSince1970: $0.at), comment: $0.comment) }
        (exclusive, resetOnCheckin, autoApproved) = (r.exclusive, r.resetOnCheckin, r.autoApproved)
        waitingForHolder = r.state == .pending && r.fullyApproved
        (decidedBy, comment, createdAt, expiresAt, approvedAt) = (r.decidedBy, r.comment, r.createdAt, r.expiresAt, r.approvedAt)
        (checkedOutAt, until, checkedInAt, checkedInBy, checkinReason) = (r.checkedOutAt, r.until, r.checkedInAt, r.checkedInBy, r.checkinReason)
        (resetTaskId, resetProblem, taskId) = (r.resetTaskId, r.resetProblem, r.resetTaskId)
    }
}
