import GRDB

extension TaskRecord {
    /// Whether a reset of the account is queued, running or in reconcile (it may be changing the
    /// password on the target).
    static func resetUnderWay(_ accountID: String, _ db: Database) throws -> Bool {
        try TaskRecord.filter(Column("accountId") == accountID && Column("kind") == "reset"
            && ["queued", "running", "unknown"].contains(Column("state"))).fetchCount(db) > 0
    }
}
