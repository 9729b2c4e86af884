/// The four roles of the seed. The super-administrator flag is separate (see `Principal`).
enum Role: String, Codable, Sendable, CaseIterable {
    case administrator, passwordAdministrator, passwordUser, passwordAuditor
}

/// Share levels, ordered: each includes the ones below it.
enum Permission: String, Codable, Sendable, Comparable, CaseIterable {
    case view, modify, manage

    private var rank: Int {
        switch self {
        case .view: 0
        case .modify: 1
        case .manage: 2
        }
    }
    static func < (a: Permission, b: Permission) -> Bool { a.rank < b.rank }
}

/// Who is calling: a user, through a session or an API token.
struct Principal: Sendable, Equatable {
    let userID: String
    let username: String
    let role: Role
    let superAdmin: Bool
    let mustChangePassword: Bool
    let tokenID: String
}
