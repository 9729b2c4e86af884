import Foundation
import Hummingbird

/// The access-control workflow in the console: the account page's card (request, check out, check
/// in, the holder and time left) and the requests page where approvers decide.
extension WebConsole {
    func access(_ web: RouterGroup<AppContext>) {
        web.get("/access-requests") { request, _ in
            try await page(request) { v in try await accessRequestsPage(v, notice: Self.notice(request)) }
        }
        web.post("/resources/:rid/accounts/:aid/access-requests") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let ids = try Self.ids(ctx)
                let minutes = f["minutes"].flatMap { $0.isEmpty ? nil : $0 }
                do {
                    guard minutes.map({ Int($0) != nil }) ?? true else { throw DomainError.invalid("invalid_field", "minutes must be a whole number") }
                    let b = AccessRequestBody(reason: f["reason"] ?? "", minutes: minutes.flatMap { Int($0) }, ticketId: f["ticketId"].flatMap { $0.isEmpty ? nil : $0 })
                    try b.validate()
                    let r = try await custody.access.request(rid: ids["rid"]!, aid: ids["aid"]!, reason: b.reason, minutes: b.minutes,
                        ticketId: b.ticketId, by: v.principal, ip: ctx.remoteIP)
                    return Self.redirect(Self.path(ids) + "?notice=" + Self.noticeKey(r))
                } catch let e as any APIFailure where e.status == .badRequest || e.status == .conflict {
                    return try await accountPage(v, ctx, revealed: nil, errors: ["access": e.message], status: e.status)
                }
            }
        }
        web.post("/access-requests/:qid/:step") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let id = try ctx.parameters.require("qid")
                let a = custody.access, p = v.principal, ip = ctx.remoteIP
                let comment = f["comment"].flatMap { $0.isEmpty ? nil : $0 }, reason = f["reason"].flatMap { $0.isEmpty ? nil : $0 }
                try Validate.text(comment, field: "comment", max: 1000)
                try Validate.text(reason, field: "reason", max: 1000)
                let r: AccessRequestRecord
                switch try ctx.parameters.require("step") {
                case "approve": r = try await a.approve(id, comment: comment, by: p, ip: ip)
                case "reject": r = try await a.reject(id, comment: comment, by: p, ip: ip)
                case "checkout": r = try await a.checkout(id, by: p, ip: ip)
                case "checkin": r = try await a.checkin(id, reason: reason, by: p, ip: ip)
                default: throw APIError.notFound("page")
                }
                let back = f["back"] == "list" ? "/access-requests" : "/resources/\(r.resourceId)/accounts/\(r.accountId)"
                return Self.redirect(back + "?notice=" + Self.noticeKey(r))
            }
        }
    }

    func accessRequestsPage(_ v: Visitor, notice: String?) async throws -> Response {
        let a = custody.access, p = v.principal
        let awaiting = try await a.list(mine: false, awaiting: true, state: nil, accountId: nil, PageRequest(limit: 100), by: p).items
        let mine = try await a.list(mine: true, awaiting: false, state: nil, accountId: nil, PageRequest(limit: 100), by: p).items
        func row(_ r: AccessRequestRecord) -> [String: Any] {
            ["id": r.id, "resource": r.resource, "account": r.account, "requester": r.requester, "reason": r.reason, "minutes": r.minutes,
                "state": r.state.rawValue, "stateText": AccessControlService.describe(r), "createdAt": Self.when(r.createdAt),
                "approvals": "\(r.approvals.count) of \(r.approvalsRequired)", "href": "/resources/\(r.resourceId)/accounts/\(r.accountId)"]
        }
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "title": "Access requests", "awaiting": awaiting.map(row), "mine": mine.map(row)]
        if let notice { values["notice"] = notice }
        return try render("access-requests", values)
    }

    /// The account page's access-control card; nil when no rules apply and nobody holds the password.
    func accessCard(_ v: Visitor, rid: String, aid: String) async throws -> [String: Any]? {
        let p = v.principal
        let view = try await custody.access.policy(on: AccessObject(scope: .account, id: aid, resourceId: rid), by: p)
        let holders = view.holders ?? []
        guard view.enabled || !holders.isEmpty || view.attention != nil else { return nil }
        let now = custody.now()
        var card: [String: Any] = ["csrf": v.csrf, "base": "/resources/\(rid)/accounts/\(aid)", "maxMinutes": view.maxMinutes,
            "requireTicket": view.requireTicket, "waiting": view.waiting ?? 0]
        card["holders"] = holders.map { h -> [String: Any] in
            let left = max(0, Int((h.until ?? now).timeIntervalSince(now) / 60))
            return ["user": h.user, "until": Self.when(h.until), "left": left >= 60 ? "\(left / 60) h \(left % 60) min" : "\(left) min"]
        }
        if let attention = view.attention { card["attention"] = attention }
        let mine = try await custody.access.list(mine: true, awaiting: false, state: nil, accountId: aid, PageRequest(limit: 5), by: p).items
            .first { $0.state.isLive }
        if let mine {
            card["mine"] = ["id": mine.id, "stateText": AccessControlService.describe(mine), "csrf": v.csrf,
                "canCheckout": mine.state == .approved, "canCheckin": mine.state == .checkedOut || mine.state == .approved,
                "canWithdraw": mine.state == .pending] as [String: Any]
        } else if view.enabled, Authorizer.roleAllows(p.role, .requestAccess) {
            card["canRequest"] = true
        }
        if Authorizer.roleAllows(p.role, .forceCheckin) {
            card["forcible"] = holders.filter { $0.user != p.username }.map { ["id": $0.requestId, "user": $0.user, "csrf": v.csrf] }
        }
        return card
    }

    /// The notice shown after a step (`notices`: fixed texts only).
    static func noticeKey(_ r: AccessRequestRecord) -> String {
        switch r.state {
        case .pending: r.fullyApproved ? "queued" : "requested"
        case .approved: "granted"
        case .rejected: "rejected"
        case .checkedOut: "checkedOut"
        case .checkedIn: r.resetTaskId == nil ? "checkedIn" : "checkedInReset"
        case .expired: "removed"
        }
    }
}
