import Foundation
import Hummingbird

extension Routes {
    /// Directory sign-in: `GET|PUT|DELETE /settings/directory`, `POST /settings/directory/test`.
    func directory(_ t: RouteTable) {
        t.add(.get, "/settings/directory", "Directory sign-in settings (administrators; the bind password shows as bindPasswordSet; "
            + "configured: false when there are none)", response: .object(DirectorySettingsView.self))
        { _, ctx in
            try Reply.json(try await custody.directory.settings(by: try ctx.caller()) ?? DirectorySettingsView.none)
        }
        t.add(.put, "/settings/directory", "Set directory sign-in: URL, CA, service account, base, user attribute, group-to-role mappings "
            + "(super-administrators)", body: DirectorySettingsBody.self, response: .empty)
        { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(DirectorySettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.directory.save(b, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/settings/directory", "Turn directory sign-in off (super-administrators)", response: .empty) { _, ctx in
            try await custody.directory.remove(by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/settings/directory/test", "Bind as the service account and read the base; answers ok and what happened (administrators)", response: .object(DirectoryTestView.self)) { _, ctx in
            let (ok, outcome) = try await custody.directory.test(by: try ctx.caller())
            return try Reply.json(DirectoryTestView(ok: ok, outcome: outcome))
        }
        t.add(.post, "/directory/import/users", "Make Custody users of the people in directory groups or under bases, with the role their "
            + "mapped groups give, and user groups of the groups (super-administrators; answers a report, ok false when the directory "
            + "cannot be read)", body: DirectoryImportUsersBody.self, response: .object(DirectoryImportReport.self))
        { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createUser)
            let b = try await req.decodeStrict(DirectoryImportUsersBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(try await custody.directory.importUsers(b, by: p, ip: ctx.remoteIP))
        }
        t.add(.post, "/directory/import/resources", "Make resources of the computer objects under a base (type from operatingSystem, DNS name "
            + "from dNSHostName) and resource groups of their OUs; and accounts of a Windows Domain resource (domainResource) of the domain "
            + "user accounts under accountsBase, their passwords unknown until their first reset (administrators and password "
            + "administrators; answers a report, ok false when the directory cannot be read)", body: DirectoryImportResourcesBody.self, response: .object(DirectoryResourcesReport.self))
        { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createResource)
            let b = try await req.decodeStrict(DirectoryImportResourcesBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(try await custody.directory.importResources(b, with: custody.directoryImports, by: p, ip: ctx.remoteIP))
        }
        t.add(.post, "/directory/sync", "Run the directory sync now: the imports of the directorySync setting again, as the super-administrator "
            + "who saved it; users no longer found are disabled and domain accounts no longer listed are marked missing, nothing is deleted "
            + "(super-administrators; answers each import's report)", response: .object(DirectorySyncReport.self))
        { _, ctx in
            try Reply.json(try await custody.directory.syncNow(with: custody.directoryImports, by: try ctx.caller(), ip: ctx.remoteIP))
        }
    }
}

/// The answer of `POST /settings/directory/test`.
struct DirectoryTestView: Codable, Sendable {
    var ok: Bool
    var outcome: String
}
