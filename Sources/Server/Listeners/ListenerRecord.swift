import Foundation
import GRDB

/// A post-reset listener: a script (PMP's Password Reset Listener) or a custom plugin, stored
/// encrypted, run only once a second administrator approved this revision.
struct ListenerRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "listeners"
    enum Kind: String, Codable, Sendable, CaseIterable { case script, custom }
    enum SecretsVia: String, Codable, Sendable, CaseIterable { case stdin, env, argv }
    enum Status: String, Codable, Sendable, CaseIterable { case pendingApproval, active, rejected, disabled }

    var id: String
    var name: String
    var kind: Kind
    var resourceTypes: [String]
    /// The script body, sealed with `Vault.listenerIdentity` (nil for an executable on disk).
    var sealedScript: Data?
    /// Or an executable on the server, pinned by its SHA-256 at creation and edit.
    var executable: String?
    var sha256: String?
    var preCommand: String?
    var additionalParameters: [String]
    var secretsVia: SecretsVia
    var timeoutSeconds: Double
    var status: Status
    /// Bumped by every edit; an approval and a queued run hold one revision.
    var revision: Int
    /// Who wrote this revision (who may not approve it).
    var authorId: String
    var approverId: String
    var approvedById: String?
    var approvedAt: Date?
    var createdAt: Date
    var updatedAt: Date

    func applies(to resourceType: String) -> Bool {
        resourceTypes.contains { $0.caseInsensitiveCompare(resourceType) == .orderedSame }
    }
}

/// A listener run waiting for (or in) its turn: the old and new password sealed with the run's id,
/// deleted once the result is in the audit.
struct ListenerRunRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "listenerRuns"
    enum State: String, Codable, Sendable { case queued, running }

    var id: String
    var listenerId: String
    var revision: Int
    var resourceId: String
    var accountId: String
    /// What caused the run, for the audit ("local change by alice", "task ...").
    var trigger: String
    var sealedSecrets: Data
    var state: State
    var createdAt: Date
}

extension Vault {
    static func listenerIdentity(id: String, revision: Int) -> String { "listener:\(id):\(revision)" }
    static func listenerRunIdentity(id: String) -> String { "listenerRun:\(id)" }
}
