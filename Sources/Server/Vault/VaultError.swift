/// Errors from the vault. The message names files and records, never a secret.
struct VaultError: Error, Sendable, CustomStringConvertible {
    enum Code: String, Sendable {
        case keyMissing, keyUnreadable, keyPermissions, wrongKey, integrity, rotationFailed, missingPending
    }
    static let missingPending = VaultError(.missingPending, "the pending password to commit is gone; nothing was changed")
    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}
