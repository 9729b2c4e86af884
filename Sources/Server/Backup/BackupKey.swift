import Crypto
import Foundation
import Shared
import _CryptoExtras

/// The key a backup's frames are sealed with: from the master key, or from a passphrase.
struct BackupKey: Sendable {
    let key: SymmetricKey

    static let info = Data("custody.backup.v1".utf8)
    static let checkLabel = Data("custody.backup.key-check.v1".utf8)
    static let minimumPassphrase = 12

    static func from(masterKey: MasterKey, salt: Data) -> BackupKey {
        BackupKey(key: HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey.key, salt: salt, info: info, outputByteCount: 32))
    }

    static func from(passphrase: Secret, salt: Data, scrypt: BackupHeader.Scrypt) throws(BackupError) -> BackupKey {
        do {
            return BackupKey(key: try KDF.Scrypt.deriveKey(from: Data(passphrase.reveal().utf8), salt: salt, outputByteCount: 32,
                rounds: scrypt.n, blockSize: scrypt.r, parallelism: scrypt.p))
        } catch {
            throw BackupError(.badInput, "the passphrase key could not be derived")
        }
    }

    /// The key of the master-key seal every backup ends with, whatever it is sealed with.
    static func sealKey(masterKey: MasterKey, salt: Data) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey.key, salt: salt, info: Data("custody.backup.seal.v1".utf8), outputByteCount: 32)
    }

    var check: Data { Data(HMAC<SHA256>.authenticationCode(for: Self.checkLabel, using: key)).prefix(16) }

    /// Reads a passphrase: the file's first line, refused when others may read the file or it is short.
    static func passphrase(file: String) throws(BackupError) -> Secret {
        var info = stat()
        guard stat(file, &info) == 0, let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw BackupError(.badInput, "cannot read the passphrase file \(file)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw BackupError(.badInput, "the passphrase file \(file) is readable by group or others; chmod 600 it")
        }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard line.count >= minimumPassphrase else {
            throw BackupError(.badInput, "the passphrase in \(file) is shorter than \(minimumPassphrase) characters")
        }
        return Secret(line)
    }

    static func randomSalt() -> Data {
        var rng = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
