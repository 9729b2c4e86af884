/// Who may give a resource or a group away, and to whom.
enum Ownership {
    /// Only the owner or a super-administrator transfers, and only to an administrator or password
    /// administrator (`to` nil: no user of that name).
    static func checkTransfer(owner: String, to: UserRecord?, username: String, by p: Principal) throws {
        guard owner == p.userID || p.superAdmin else { throw DomainError.forbidden("only the owner or a super-administrator can transfer") }
        guard let to else { throw DomainError.invalid("unknown_user", "no user named '\(username)'") }
        guard to.role == .administrator || to.role == .passwordAdministrator else {
            throw DomainError.invalid("invalid_owner", "ownership can go only to an administrator or password administrator")
        }
    }
}
