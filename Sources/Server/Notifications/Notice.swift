import Foundation

/// A notification to raise in the transaction of the change it reports: the store composes it for
/// the event's channels and queues it in the outbox (`NotificationSender` delivers it later).
struct Notice: Sendable {
    /// The account a notice is about: the store fills in the resource's and account's names.
    struct About: Sendable {
        var resourceId: String
        var accountId: String
    }

    var facts: NotificationFacts
    /// Users with access to these accounts may be recipients.
    var accounts: [String] = []
    /// The recipients of a rotation schedule.
    var extra: RotationConfig.Recipients? = nil
    /// Users named by id (e.g. a listener's approver).
    var users: [String] = []
    var about: About? = nil
    /// Raised at most once within `seconds` per key (out of sync: daily).
    var onceKey: String? = nil
    var onceSeconds: Double = 0

    init(_ facts: NotificationFacts, accounts: [String] = [], extra: RotationConfig.Recipients? = nil, users: [String] = []) {
        self.facts = facts
        self.accounts = accounts
        self.extra = extra
        self.users = users
    }

    /// A notice about one account, named by what the store holds when it is raised.
    static func account(_ facts: NotificationFacts, resourceId: String, accountId: String) -> Notice {
        var n = Notice(facts, accounts: [accountId])
        n.about = About(resourceId: resourceId, accountId: accountId)
        return n
    }

    /// An account's out-of-sync notice: at most once a day while it stays so (PMP's daily notice);
    /// its return to sync clears the mark (`outOfSyncMark`).
    static func outOfSync(resourceId: String, accountId: String, message: String) -> Notice {
        var f = NotificationFacts(.outOfSync)
        f.status = "failure"
        f.message = message
        var n = account(f, resourceId: resourceId, accountId: accountId)
        n.onceKey = outOfSyncMark(accountId)
        n.onceSeconds = 20 * 3600
        return n
    }

    static func outOfSyncMark(_ accountId: String) -> String { "out_of_sync:" + accountId }

    static func stamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }
}
