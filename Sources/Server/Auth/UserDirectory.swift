import Foundation
import Shared

/// User administration: create, list, show, change and delete users. Authorization is checked
/// here (the one `Authorizer`), so the API and the console get the same answer. Two-person
/// control: only a super-administrator makes administrators or sets their passwords.
struct UserDirectory: Sendable {
    let store: any UserStore
    let authorizer: Authorizer
    let bcryptCost: Int
    let now: @Sendable () -> Date

    func create(_ body: UserBody, by p: Principal, ip: String) async throws -> UserRecord {
        try authorizer.check(p, .createUser)
        try body.validate()
        try IdentityService.checkUserPassword(Secret(body.password), username: body.username)
        if body.superAdmin == true && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can create super-administrators") }
        if body.role == .administrator && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can create administrators") }
        let hash = try await PasswordHashing.hash(body.password, cost: bcryptCost)
        let user = UserRecord(id: newID(), username: body.username, passwordHash: hash, role: body.role, superAdmin: body.superAdmin ?? false,
            email: body.email, mustChangePassword: true, createdAt: now(), createdById: p.userID)
        try await Self.mapped {
            try await store.add(user, audit: AuditEvent(user: p.username, ip: ip, operation: "create_user",
                message: "user \(user.username) as \(user.role.rawValue)"))
        }
        return user
    }

    func users(by p: Principal) async throws -> [UserRecord] {
        try authorizer.check(p, .listUsers)
        return try await store.users()
    }

    /// One page of the users by user name, those whose name starts with `prefix` and of `role`.
    func users(named prefix: String?, role: Role?, _ page: PageRequest, by p: Principal) async throws -> Page<UserRecord> {
        try authorizer.check(p, .listUsers)
        return try await store.users(named: prefix, role: role, page)
    }

    func user(_ id: String, by p: Principal) async throws -> UserRecord {
        try authorizer.check(p, .listUsers)
        guard let u = try await store.user(id: id) else { throw DomainError.notFound("user") }
        return u
    }

    /// A role, flag, email or password change. Nobody changes their own role, scope or password
    /// here; a password set by an administrator ends the user's sessions and tokens.
    func update(_ id: String, _ body: UserPatchBody, by p: Principal, ip: String) async throws -> UserRecord {
        try authorizer.check(p, .updateUser)
        try body.validate()
        if id == p.userID && (body.role != nil || body.superAdmin != nil || body.password != nil) {
            throw DomainError.forbidden("you cannot change your own role, scope or password here; use POST /auth/password")
        }
        let target = try await user(id, by: p)
        try Self.check(body, on: target, by: p)
        var hash: String? = nil
        if let pw = body.password {
            try IdentityService.checkUserPassword(Secret(pw), username: target.username)
            hash = try await PasswordHashing.hash(pw, cost: bcryptCost)
        }
        let newHash = hash
        let updated = try await store.update(id, at: now()) { stored throws -> UserChange in
            // Decided again on the user as stored: a promotion meanwhile counts.
            try Self.check(body, on: stored, by: p)
            var u = stored
            if (body.role != nil && body.role != u.role) || (body.superAdmin != nil && body.superAdmin != u.superAdmin) { u.promotedById = p.userID }
            if let r = body.role { u.role = r }
            if let s = body.superAdmin { u.superAdmin = s }
            if u.superAdmin && !(u.role == .administrator || u.role == .passwordAdministrator) {
                throw DomainError.invalid("invalid_field", "only administrators and password administrators can be super-administrators")
            }
            if let e = body.email { u.email = e }
            if let h = newHash {
                u.passwordHash = h
                u.mustChangePassword = true
                u.credentialsResetById = p.userID
            }
            if u.superAdmin && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can change a super-administrator") }
            return UserChange(user: u, endSessions: newHash != nil, audit: AuditEvent(user: p.username, ip: ip, operation: "update_user",
                message: "user \(u.username)" + (newHash != nil ? " (password set)" : "")))
        }
        guard let updated else { throw DomainError.notFound("user") }
        return updated
    }

    /// Deletes a user who owns nothing (their shares go with them); never oneself.
    func delete(_ id: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .deleteUser)
        if id == p.userID { throw DomainError.forbidden("you cannot delete yourself") }
        let deleted = try await Self.mapped {
            try await store.delete(id) { u throws -> AuditEvent in
                if u.superAdmin && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can delete a super-administrator") }
                // Deleted, it could sign in again at once with the directory: undoing the disable is the sync owner's kind of decision.
                if u.isDisabled && !p.superAdmin {
                    throw DomainError.forbidden("only a super-administrator can delete a user the directory sync disabled (it could then sign in again)")
                }
                return AuditEvent(user: p.username, ip: ip, operation: "delete_user", message: "user \(u.username)")
            }
        }
        guard deleted != nil else { throw DomainError.notFound("user") }
    }

    /// Who may change what of `target`.
    private static func check(_ body: UserPatchBody, on target: UserRecord, by p: Principal) throws {
        if target.isDirectoryUser && (body.password != nil || body.role != nil || body.superAdmin == true) {
            throw DomainError.invalid("directory_user",
                "\(target.username) signs in with the directory, which decides its password and role; it cannot be a super-administrator")
        }
        if target.superAdmin && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can change a super-administrator") }
        if body.superAdmin != nil && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can change that flag") }
        if !p.superAdmin && body.role == .administrator && target.role != .administrator {
            throw DomainError.forbidden("only a super-administrator can promote a user to administrator")
        }
        if !p.superAdmin && target.role == .administrator && body.password != nil {
            throw DomainError.forbidden("only a super-administrator can set another administrator's password")
        }
    }

    /// A store's conflict as the domain says it.
    private static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as StoreError where e.code == .conflict { throw DomainError.conflict(e.message) }
    }
}
