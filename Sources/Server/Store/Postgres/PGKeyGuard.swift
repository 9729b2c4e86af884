import Foundation

/// Which master key this node holds, checked against the database's on every write: once
/// `custody key rotate --store-url` has re-sealed the vault under a new key, a node still holding
/// the old one (started during the rotation, or never stopped) writes nothing more, where it would
/// have sealed passwords no other node could open. The database's key is the one its canary was
/// sealed with (its header names the key), re-sealed in the rotation's own transaction.
final class PGKeyGuard: @unchecked Sendable {
    private let lock = NSLock()
    private var expected: [UInt8]?

    /// From now on, writes check for this key (a node, once its vault is open).
    func expect(_ id: [UInt8]) { lock.withLock { expected = id } }
    var active: Bool { lock.withLock { expected != nil } }

    /// Throws unless `canary` was sealed with the expected key (or nothing is expected).
    func check(_ canary: Data?) throws {
        guard let expected = lock.withLock({ expected }) else { return }
        guard let canary, canary.count > 9, Array(canary[canary.startIndex + 1..<canary.startIndex + 9]) == expected else {
            throw StoreUnavailable(
                "the master key was rotated in the database and this node holds the old one: stop it and start it with the new key file")
        }
    }
}
