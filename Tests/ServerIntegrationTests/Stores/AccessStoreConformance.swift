import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AccessStore` must do: rules are stored per object and visible as the
/// object is; an account's rules are its own, else its resource's, else its first group's by name;
/// a transition writes its requests, audit and reset together, and a refusal writes nothing; the
/// lists (mine, awaiting, involving, all) page newest first; deadlines are found.
@Suite struct AccessStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let ana = GroupStoreConformance.ana
    static let bo = GroupStoreConformance.bo
    static let root = Principal(userID: "u-root", username: "root", role: .administrator, superAdmin: true, mustChangePassword: false, tokenID: "t")
    static let allow: @Sendable (Permission) throws -> Void = { _ in }

    static func request(_ id: String, _ rid: String, _ aid: String, by requester: String, approvers: [String], at: Date,
        state: AccessRequestRecord.State = .pending) -> AccessRequestRecord
    {
        AccessRequestRecord(id: id, resourceId: rid, accountId: aid, resource: "r", account: "a", requesterId: requester, requester: requester,
            reason: "why", ticketId: nil, minutes: 30, state: state, approverIds: approvers, approvalsRequired: 1, exclusive: true,
            resetOnCheckin: true, pendingMinutes: 60, autoApproved: false, approvals: [], decidedBy: nil, comment: nil, createdAt: at,
            expiresAt: at.addingTimeInterval(3600), approvedAt: nil, checkedOutAt: nil, until: nil, checkedInAt: nil, checkedInBy: nil,
            checkinReason: nil, resetTaskId: nil, resetProblem: nil, catchUp: false)
    }

    @Test(arguments: StoreBackend.names("access"))
    func rulesAreInheritedAccountThenResourceThenFirstGroup(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        try await b.addUser("u-root", "root")
        try await b.setRole("u-bo", .administrator)
        let rid = try await b.ownResource("u-ana")
        let aid = try await b.addAccount(rid, "svc")
        for (id, gname) in [("g-z", "zeta"), ("g-a", "Alpha")] {
            _ = try await b.groups.create(GroupStoreConformance.group(id, gname), resourceIds: [rid], by: Self.ana, check: GroupStoreConformance.allow,
                audit: AuditEvent(user: "ana", ip: "t", operation: "create_group"))
        }
        let acs = b.access!
        #expect(try await acs.facts(account: aid, of: rid, for: Self.ana)?.policy == nil)
        var rules = AccessPolicy()
        rules.approvers = .init(users: ["u-bo"])
        for (gid, minutes) in [("g-z", 11), ("g-a", 22)] {
            rules.maxMinutes = minutes
            #expect(try await acs.setPolicy(rules, on: AccessObject(scope: .group, id: gid), by: Self.ana, at: Self.t0, authorize: Self.allow,
                audit: { AuditEvent(user: "ana", ip: "t", operation: "set_access_control", message: $0) }))
        }
        let fromGroup = try #require(try await acs.facts(account: aid, of: rid, for: Self.ana)?.policy)
        #expect(fromGroup.scope == .group && fromGroup.scopeName == "Alpha" && fromGroup.policy.maxMinutes == 22, "the first group by name, any case")
        rules.maxMinutes = 33
        rules.resetOnShareRemoval = true
        _ = try await acs.setPolicy(rules, on: AccessObject(scope: .resource, id: rid), by: Self.ana, at: Self.t0, authorize: Self.allow,
            audit: { AuditEvent(user: "ana", ip: "t", operation: "set_access_control", message: $0) })
        rules.maxMinutes = 44
        rules.resetOnShareRemoval = false
        _ = try await acs.setPolicy(rules, on: AccessObject(scope: .account, id: aid, resourceId: rid), by: Self.ana, at: Self.t0,
            authorize: Self.allow, audit: { AuditEvent(user: "ana", ip: "t", operation: "set_access_control", message: $0) })
        let facts = try #require(try await acs.facts(account: aid, of: rid, for: Self.ana))
        #expect(facts.policy?.scope == .account && facts.policy?.policy.maxMinutes == 44 && facts.permission == .manage)
        #expect(facts.resetOnShareRemoval, "the resource's rule on share removal, whatever the account's rules")
        #expect(facts.approvers.map(\.username) == ["bo"] && facts.approvers.first?.role == .administrator)
        // Bo sees nothing of ana's resource: its rules are not his to read or set.
        guard case .notVisible = try await acs.policy(on: AccessObject(scope: .resource, id: rid), visibleTo: Self.bo, authorize: Self.allow) else {
            Issue.record("bo should not see the resource's rules")
            return
        }
        #expect(try await acs.setPolicy(nil, on: AccessObject(scope: .resource, id: rid), by: Self.bo, at: Self.t0, authorize: Self.allow,
            audit: { AuditEvent(user: "bo", ip: "t", operation: "clear_access_control", message: $0) }) == false)
        #expect(try await acs.setPolicy(nil, on: AccessObject(scope: .account, id: aid, resourceId: rid), by: Self.ana, at: Self.t0,
            authorize: Self.allow, audit: { AuditEvent(user: "ana", ip: "t", operation: "clear_access_control", message: $0) }))
        #expect(try await acs.facts(account: aid, of: rid, for: Self.ana)?.policy?.scope == .resource)
        let people = try await acs.people(users: ["BO", "nobody"], userGroups: ["none"])
        #expect(people.users["BO"]?.id == "u-bo" && people.users["nobody"] == nil && people.groups.isEmpty)
        #expect(try await acs.names(users: ["u-ana", "u-x"], userGroups: []).users == ["u-ana": "ana"])
        #expect(try await acs.accounts(coveredBy: .group("g-a")).map(\.account) == [aid])
        #expect(try await acs.accounts(coveredBy: .resource(rid)).map(\.account) == [aid])
    }

    @Test(arguments: StoreBackend.names("access"))
    func transitionsWriteTogetherAndListsPageNewestFirst(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for (id, n) in [("u-ana", "ana"), ("u-bo", "bo"), ("u-root", "root")] { try await b.addUser(id, n) }
        let rid = try await b.ownResource("u-ana")
        let aid = try await b.addAccount(rid, "svc")
        let acs = b.access!
        let before = try await b.auditOperations().count
        await #expect(throws: DomainError.self) {
            _ = try await acs.transition(account: aid, of: rid, for: Self.ana) { _, _ in
                throw DomainError(.conflict, "no", "refused")
            }
        }
        #expect(try await b.auditOperations().count == before, "a refusal writes nothing")
        #expect(try await acs.transition(account: "nope", of: rid, for: Self.ana) { _, _ in AccessWrite() } == nil)
        var ids: [String] = []
        for i in 0..<3 {
            let r = Self.request("q\(i)", rid, aid, by: i == 2 ? "u-root" : "u-ana", approvers: ["u-bo"], at: Self.t0.addingTimeInterval(Double(i)))
            _ = try await acs.transition(account: aid, of: rid, for: Self.ana) { f, caller in
                #expect(caller?.username == "ana" && f.live.count == i)
                return AccessWrite(created: r, audit: [AuditEvent(user: "ana", ip: "t", operation: "access_request")])
            }
            ids.append(r.id)
        }
        #expect(try await acs.request("q1")?.approverIds == ["u-bo"])
        func list(_ who: AccessRequestFilter.Who, state: AccessRequestRecord.State? = nil) async throws -> [String] {
            var out: [String] = [], page = PageRequest(limit: 2)
            repeat {
                let p = try await acs.requests(AccessRequestFilter(who: who, state: state), page)
                out += p.items.map(\.id)
                page.after = p.next
            } while page.after != nil
            return out
        }
        #expect(try await list(.all) == ["q2", "q1", "q0"])
        #expect(try await list(.mine("u-ana")) == ["q1", "q0"])
        #expect(try await list(.awaiting("u-bo")) == ["q2", "q1", "q0"])
        #expect(try await list(.awaiting("u-ana")).isEmpty)
        #expect(try await list(.involving("u-root")) == ["q2"])
        // Bo approves q1; a reset is queued with the same write.
        _ = try await acs.transition(account: aid, of: rid, for: Self.bo) { f, _ in
            var r = try #require(f.live.first { $0.id == "q1" })
            r.approvals.append(.init(userId: "u-bo", username: "bo", at: Self.t0.timeIntervalSince1970, comment: nil))
            r.state = .checkedOut
            r.until = Self.t0.addingTimeInterval(600)
            r.expiresAt = nil
            return AccessWrite(requests: [r], audit: [AuditEvent(user: "bo", ip: "t", operation: "approve_access_request")],
                task: ResetEngine.newTask(.reset, f.target, by: "bo", reason: "check-in", at: Self.t0))
        }
        #expect(try await list(.awaiting("u-bo")) == ["q2", "q0"], "approved by bo: no longer awaiting him")
        #expect(try await list(.all, state: .checkedOut) == ["q1"])
        let facts = try #require(try await acs.facts(account: aid, of: rid, for: Self.ana))
        #expect(facts.resetUnderWay && facts.holders.map(\.id) == ["q1"])
        #expect(try await acs.nextDeadline() == Self.t0.addingTimeInterval(600), "the checkout's end comes before the requests' expiry")
        #expect(try await acs.due(at: Self.t0.addingTimeInterval(601)).map(\.id) == ["q1"])
        #expect(try await acs.due(at: Self.t0.addingTimeInterval(3603)).map(\.id) == ["q0", "q1", "q2"])
        try await acs.end("q0", as: .expired, at: Self.t0, note: "gone", audit: AuditEvent(user: "system", ip: "t", operation: "access_request_expired"))
        #expect(try await acs.request("q0")?.state == .expired)
        #expect(try await b.auditOperations().suffix(2) == ["approve_access_request", "access_request_expired"])
    }
}
