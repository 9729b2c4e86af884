import Foundation
import Hummingbird
import Shared

struct AccountBody: APIBody {
    static let fields = ["loginName", "password", "description", "notes", "customFields"]
    static let required = ["loginName", "password"]
    var loginName: String
    var password: String
    var description, notes: String?
    var customFields: [String: String]?
    func validate() throws {
        try Validate.name(loginName, field: "loginName")
        try Validate.password(password)
        try Validate.text(description, field: "description")
        try Validate.text(notes, field: "notes", max: 10000)
        try Validate.customFields(customFields)
    }
}

struct AccountPatchBody: APIBody {
    static let fields = ["loginName", "description", "notes", "customFields"]
    var loginName, description, notes: String?
    var customFields: [String: String]?
    func validate() throws {
        if let loginName { try Validate.name(loginName, field: "loginName") }
        try Validate.text(description, field: "description")
        try Validate.text(notes, field: "notes", max: 10000)
        try Validate.customFields(customFields)
    }
}

struct AccountView: Codable, Sendable {
    var id, resourceId, loginName: String
    var description, notes: String?
    var customFields: [String: String]
    var syncStatus: SyncStatus
    var lastVerifiedAt, lastChangedAt: Date?
    var createdAt: Date
    /// false: the vault holds no password for it yet (found by an agent or in the directory); its
    /// first reset sets one.
    var passwordKnown: Bool
    init(_ a: AccountRecord) {
        id = a.id; resourceId = a.resourceId; loginName = a.loginName; description = a.description; notes = a.notes
        customFields = a.customFields; syncStatus = a.syncStatus; lastVerifiedAt = a.lastVerifiedAt
        lastChangedAt = a.lastChangedAt; createdAt = a.createdAt
        passwordKnown = a.lastChangedAt != nil
    }
}

extension Validate {
    /// A password, or a PEM / OpenSSH private key (the one secret that may hold line breaks).
    static func password(_ value: String, field: String = "password") throws {
        if let r = recorder {
            return r.note(field, ["anyOf": [["minLength": 1, "maxLength": 1024, "pattern": "^[^\\u0000-\\u001F\\u007F]+$"],
                ["pattern": "^-----BEGIN ", "maxLength": 16384]]])
        }
        let isKey = value.hasPrefix("-----BEGIN ")
        if value.isEmpty || value.count > (isKey ? 16384 : 1024) {
            throw APIError.badRequest("invalid_field", "field '\(field)' must be 1 to 1024 characters (16384 for a private key)")
        }
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && !(isKey && ($0 == "\n" || $0 == "\r"))) || $0.value == 0x7f }) {
            throw APIError.badRequest("invalid_field", "field '\(field)' contains control characters")
        }
    }
}

extension Routes {
    func accounts(_ t: RouteTable) {
        t.add(.post, "/resources/:rid/accounts", "Add an account with its password (manage on the resource)", body: AccountBody.self, response: .object(AccountView.self)) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(AccountBody.self, limit: custody.config.maxBodyBytes)
            let a = try await custody.accountCreation.add(rid: try ctx.param("rid"), b, by: p, ip: ctx.remoteIP)
            return try Reply.json(AccountView(a), status: .created)
        }
        t.add(.get, "/resources/:rid/accounts", "List a resource's accounts you can see, by login name, never passwords "
            + "(?name= prefix, syncStatus=; paged: limit=, cursor=)", response: .list(AccountView.self),
            query: QueryParam.paging() + [QueryParam("name", .string, "login names starting with this, ASCII letters in any case"), .choice("syncStatus", SyncStatus.self)]) { req, ctx in
            let q = ListParameters(req)
            let filter = AccountFilter(namePrefix: try q.text("name"), syncStatus: try q.choice("syncStatus", SyncStatus.self))
            let page = try await custody.accounts.accounts(of: try ctx.param("rid"), filter, try q.page(), by: try ctx.caller())
            return Reply.page(page.map(AccountView.init), req)
        }
        t.add(.get, "/resources/:rid/accounts/:aid", "Show an account (never its password)", response: .object(AccountView.self)) { _, ctx in
            try Reply.json(AccountView(try await custody.accounts.account(try ctx.param("aid"), of: try ctx.param("rid"), by: try ctx.caller())))
        }
        t.add(.patch, "/resources/:rid/accounts/:aid", "Edit an account's details (manage)", body: AccountPatchBody.self, response: .object(AccountView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateAccount)  // the role's ceiling, before the body is read
            let b = try await req.decodeStrict(AccountPatchBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(AccountView(try await custody.accounts.update(try ctx.param("aid"), of: try ctx.param("rid"), b, by: p,
                ip: ctx.remoteIP)))
        }
        t.add(.delete, "/resources/:rid/accounts/:aid", "Delete an account and its password history (manage)", response: .empty) { _, ctx in
            try await custody.accounts.delete(try ctx.param("aid"), of: try ctx.param("rid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        passwords(t)
    }
}
