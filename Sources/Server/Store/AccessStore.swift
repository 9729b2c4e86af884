import Foundation

/// What an access-control policy is set on.
struct AccessObject: Sendable, Equatable {
    var scope: AccessScope
    /// The account's, resource's or group's id.
    var id: String
    /// The account's resource.
    var resourceId: String? = nil
}

/// A policy as stored on one object: nil when none is set there.
enum StoredAccessPolicy: Sendable {
    case notVisible
    case found(AccessPolicy?, name: String)
}

/// A user an access policy names, with what decides whether they may approve.
struct AccessPerson: Sendable, Equatable {
    var id: String
    var username: String
    var role: Role
    /// Who made, promoted or last reset this user (two-person rules).
    var beholdenTo: [String] = []
}

/// The gate's facts: `permission` is read only when rules apply or someone holds the password.
struct AccessGateFacts: Sendable {
    var enabled: Bool
    var holders: [AccessRequestRecord]
    var permission: Permission?
}

/// Which requests a list shows.
struct AccessRequestFilter: Sendable, Equatable {
    enum Who: Sendable, Equatable {
        /// Every request (super-administrators).
        case all
        /// Those the user made.
        case mine(String)
        /// Pending ones the user may approve and has not.
        case awaiting(String)
        /// Those the user made or may approve.
        case involving(String)
    }
    var who: Who
    var state: AccessRequestRecord.State? = nil
    var accountId: String? = nil
}

/// Access policies and requests. A transition is one transaction: its facts are read, `decide`
/// chooses what to write (throwing writes nothing), and the requests, audit records, notices and
/// any reset are written together.
protocol AccessStore: Sendable {
    func policy(on object: AccessObject, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws
        -> StoredAccessPolicy
    /// Sets (nil: removes) the policy on the object; false when the caller cannot see it.
    func setPolicy(_ policy: AccessPolicy?, on object: AccessObject, by p: Principal, at: Date, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (_ objectName: String) -> AuditEvent) async throws -> Bool
    /// Users by name (case-insensitive) and user groups by name with their members.
    func people(users: [String], userGroups: [String]) async throws -> (users: [String: AccessPerson], groups: [String: (id: String, members: [AccessPerson])])
    /// The names of users and user groups by id.
    func names(users: [String], userGroups: [String]) async throws -> (users: [String: String], groups: [String: String])
    /// The users a policy's people come to (user groups expanded).
    func expand(_ people: AccessPolicy.People) async throws -> [AccessPerson]

    /// What a retrieval or change is gated on, read cheaply: whether rules apply, who holds the
    /// password, and (only then) the caller's permission. Nil when the account does not exist.
    func gate(account: String, of resource: String, for p: Principal) async throws -> AccessGateFacts?
    /// One account's facts for `p`; nil when the account does not exist.
    func facts(account: String, of resource: String, for p: Principal) async throws -> AccessFacts?
    /// A transition of the account's requests; nil when the account does not exist.
    func transition(account: String, of resource: String, for p: Principal, _ decide: @Sendable (AccessFacts, _ caller: UserRecord?) throws -> AccessWrite)
        async throws -> AccessWrite?
    func request(_ id: String) async throws -> AccessRequestRecord?
    /// Ends a live request whose account is gone.
    func end(_ id: String, as state: AccessRequestRecord.State, at: Date, note: String, audit: AuditEvent) async throws
    /// Newest first.
    func requests(_ filter: AccessRequestFilter, _ page: PageRequest) async throws -> Page<AccessRequestRecord>
    /// Requests whose deadline has come: void pending and approved ones, checkouts at their end.
    func due(at: Date) async throws -> [AccessRequestRecord]
    /// The earliest deadline of any live request.
    func nextDeadline() async throws -> Date?
    /// The accounts a share on `target` covers, as (resource, account) ids.
    func accounts(coveredBy target: ShareTarget) async throws -> [(resource: String, account: String)]
}
