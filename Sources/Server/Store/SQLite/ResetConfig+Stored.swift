import Foundation
import GRDB

extension ResetConfig {
    /// The resource's stored config, if any (table `resetConfigs`, the config as its API JSON).
    static func stored(for resourceID: String, _ db: Database) throws -> ResetConfig? {
        decode(try String.fetchOne(db, sql: "SELECT json FROM resetConfigs WHERE resourceId = ?", arguments: [resourceID]))
    }
}
