/// Why a backup could not be made, read or restored. Messages name files and frames, never a secret.
struct BackupError: Error, Sendable, CustomStringConvertible {
    enum Code: String, Sendable {
        /// Not a Custody backup, or a format this version does not read.
        case notABackup
        /// The key or passphrase given is not the one the backup was made with.
        case wrongKey
        /// A frame failed authentication, the file ends early or goes on after its end.
        case damaged
        /// Bad options: a missing key or passphrase, a weak passphrase, a target that is not empty.
        case badInput
        /// The restored vault does not open, a secret does not decrypt, or the audit chain is broken.
        case verifyFailed
        /// Reading or writing a file failed.
        case io
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}
