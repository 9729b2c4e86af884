import Foundation
import ResetPlugins

/// The body of `POST /listeners` and `PUT /listeners/{id}`.
struct ListenerBody: APIBody {
    static let fields = ["name", "kind", "resourceTypes", "script", "executable", "preCommand", "additionalParameters",
        "secretsVia", "approver", "timeoutSeconds"]
    static let required = ["name", "kind", "resourceTypes", "approver"]
    static let maxScriptBytes = 256 * 1024

    var name: String
    var kind: ListenerRecord.Kind
    var resourceTypes: [String]
    /// The script body, stored encrypted.
    var script: String?
    /// Or an absolute path to an executable on the server, pinned by its SHA-256.
    var executable: String?
    var preCommand: String?
    var additionalParameters: [String]?
    var secretsVia: ListenerRecord.SecretsVia?
    /// User name or id of the administrator asked to approve.
    var approver: String
    var timeoutSeconds: Double?

    func validate() throws {
        try Validate.name(name, field: "name", max: 100)
        try Validate.count(resourceTypes.count, field: "resourceTypes", in: 1...100, what: "resource types")
        for t in resourceTypes { try Validate.name(t, field: "resourceTypes", max: 100) }
        if let r = Validate.recorder {  // the shape of what follows, for the document
            let line = "^[^\\u0000-\\u001F\\u007F]*$"
            r.note("executable", ["pattern": "^/[^\\u0000]*$", "maxLength": 1000])
            r.note("script", ["minLength": 1, "pattern": "^[^\\u0000]*$"])
            r.note("preCommand", ["maxLength": 500, "pattern": line])
            r.note("additionalParameters", ["maxItems": 50, "maxLength": 1000, "pattern": line])
            return r.note("timeoutSeconds", ["minimum": 1, "maximum": 3600])
        }
        switch (script, executable) {
        case (nil, nil), (.some, .some):
            throw DomainError.invalid("invalid_field", "give exactly one of 'script' (the body) and 'executable' (a path on the server)")
        case (let s?, nil):
            guard !s.isEmpty, s.utf8.count <= Self.maxScriptBytes else {
                throw DomainError.invalid("invalid_field", "field 'script' must be 1 to \(Self.maxScriptBytes) bytes")
            }
            if s.contains("\0") { throw DomainError.invalid("invalid_field", "field 'script' contains a NUL byte") }
        case (nil, let e?):
            guard e.hasPrefix("/"), !e.contains("\0"), e.count <= 1000 else {
                throw DomainError.invalid("invalid_field", "field 'executable' must be an absolute path")
            }
        }
        try Validate.text(preCommand, field: "preCommand", max: 500)
        if preCommand?.contains("\n") == true { throw DomainError.invalid("invalid_field", "field 'preCommand' must be one line") }
        let params = additionalParameters ?? []
        if params.count > 50 { throw DomainError.invalid("invalid_field", "at most 50 additionalParameters") }
        for p in params {
            try Validate.text(p, field: "additionalParameters", max: 1000)
            if p.contains("\n") { throw DomainError.invalid("invalid_field", "additionalParameters must be single lines") }
        }
        if kind == .custom, let via = secretsVia, via != .stdin {
            throw DomainError.invalid("invalid_field", "a custom listener reads its request on stdin; secretsVia must be stdin")
        }
        if let t = timeoutSeconds, !(1...3600).contains(t) {
            throw DomainError.invalid("invalid_field", "field 'timeoutSeconds' must be 1...3600")
        }
    }

    /// The record for revision `revision` (the executable hash pinned by `pin()`); the approver must be another administrator.
    /// The SHA-256 of `executable`, read before any transaction opens.
    func pin() throws -> String? {
        guard let executable else { return nil }
        do { return ExternalProgram.sha256(try ExternalProgram.readExecutable(executable)) } catch {
            throw DomainError.invalid("invalid_field", "'\(executable)': \(error.description)")
        }
    }

    func record(id: String, revision: Int, author: Principal, created: Date, now: Date, vault: Vault, defaultTimeout: Double,
        hash: String?, approver approverRow: UserRecord?) throws -> ListenerRecord
    {
        guard let a = approverRow, a.role == .administrator else {
            throw DomainError.invalid("invalid_approver", "the approver must be an existing administrator")
        }
        guard a.id != author.userID else {
            throw DomainError.invalid("invalid_approver", "the approver must be an administrator other than you (dual control)")
        }
        var sealed: Data? = nil
        if let script { sealed = try vault.seal(Data(script.utf8), identity: Vault.listenerIdentity(id: id, revision: revision)) }
        return ListenerRecord(id: id, name: name, kind: kind, resourceTypes: resourceTypes, sealedScript: sealed, executable: executable,
            sha256: hash, preCommand: preCommand, additionalParameters: additionalParameters ?? [], secretsVia: secretsVia ?? .stdin,
            timeoutSeconds: timeoutSeconds ?? defaultTimeout, status: .pendingApproval, revision: revision, authorId: author.userID,
            approverId: a.id, approvedById: nil, approvedAt: nil, createdAt: created, updatedAt: now)
    }
}
