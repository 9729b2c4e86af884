import Foundation
import GRDB

struct UserRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "users"
    var id: String
    var username: String
    var passwordHash: String
    var role: Role
    var superAdmin: Bool
    var email: String?
    var mustChangePassword: Bool
    var createdAt: Date
    /// Who created this user, last changed its role or flag, and last set its password or reset its
    /// second factor: such a person may not be the other half of a two-person approval with it.
    var createdById: String? = nil
    var promotedById: String? = nil
    var credentialsResetById: String? = nil

    /// The password hash of a user who signs in with the directory: it never matches a password.
    static let directoryMarker = "!directory"
    /// A directory user a sync disabled: it cannot sign in until an import finds it again.
    static let directoryDisabledMarker = "!directory:disabled"
    var isDirectoryUser: Bool { passwordHash == Self.directoryMarker || isDisabled }
    var isDisabled: Bool { passwordHash == Self.directoryDisabledMarker }

    /// True when `userID` made, promoted or last reset this user.
    func isBeholdenTo(_ userID: String) -> Bool { [createdById, promotedById, credentialsResetById].contains(userID) }
}

struct TokenRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "tokens"
    /// `web`: a console session, valid only as the console's cookie, never as a bearer token.
    enum Kind: String, Codable, Sendable, CaseIterable { case session, api, web }
    var id: String
    var userId: String
    var name: String
    var kind: Kind
    var hash: String
    var createdAt: Date
    var expiresAt: Date?
    var revokedAt: Date?
    var lastUsedAt: Date?

    /// A token with its user, as a request's caller is known.
    struct WithUser: Sendable {
        let token: TokenRecord
        let user: UserRecord
    }
}

struct ResourceRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "resources"
    var id: String
    var name: String
    var dnsName: String
    var type: String
    var description: String?
    var department: String?
    var location: String?
    var url: String?
    var customFields: [String: String]
    var passwordPolicy: String?
    var ownerId: String
    var createdAt: Date
    var updatedAt: Date
}

/// `missing`: the account's agent no longer finds it on the host (kept, with its history).
enum SyncStatus: String, Codable, Sendable, CaseIterable { case inSync, outOfSync, unknown, unreachable, neverChecked, missing }

struct AccountRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "accounts"
    var id: String
    var resourceId: String
    var loginName: String
    var description: String?
    var notes: String?
    var customFields: [String: String]
    var syncStatus: SyncStatus
    var lastVerifiedAt: Date?
    var lastChangedAt: Date?
    var createdAt: Date
}

struct GroupRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "groups"
    var id: String
    var name: String
    var ownerId: String
    var passwordPolicy: String?
    var createdAt: Date
}

struct ShareRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "shares"
    enum ObjectKind: String, Codable, Sendable, CaseIterable { case account, resource, group }
    enum PrincipalKind: String, Codable, Sendable, CaseIterable { case user, userGroup }
    var objectKind: ObjectKind
    var objectId: String
    var principalKind: PrincipalKind
    var principalId: String
    var permission: Permission
}

/// Dates written as seconds since 1970, so SQL can compare them (migration v19 turned the text an
/// earlier, mistyped version of this wrote into seconds). GRDB reads a date from either.
protocol EpochDates: EncodableRecord, FetchableRecord {}
extension EpochDates {
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
}
extension UserRecord: EpochDates {}
extension TokenRecord: EpochDates {}
extension ResourceRecord: EpochDates {}
extension AccountRecord: EpochDates {}
extension GroupRecord: EpochDates {}
extension ListenerRecord: EpochDates {}
extension ListenerRunRecord: EpochDates {}
