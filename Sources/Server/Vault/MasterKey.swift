import Crypto
import Foundation

/// The vault's AES-256 key, kept in a file outside the database (mode 0600).
struct MasterKey: Sendable {
    let key: SymmetricKey
    /// First 8 bytes of SHA-256 of the key, stored beside each ciphertext.
    let id: [UInt8]

    init(_ key: SymmetricKey) {
        self.key = key
        self.id = Array(key.withUnsafeBytes { SHA256.hash(data: Data($0)) }.prefix(8))
    }

    static func generate() -> MasterKey { MasterKey(SymmetricKey(size: .bits256)) }

    static let header = "custody-master-key-v1"

    /// Reads the key, refusing a file that group or others can read.
    static func load(path: String) throws(VaultError) -> MasterKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw VaultError(.keyMissing, "master key file \(path) does not exist or cannot be read")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw VaultError(.keyPermissions,
                "master key file \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VaultError(.keyUnreadable, "master key file \(path) cannot be read")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.count >= 2, lines[0] == header, let raw = Data(base64Encoded: lines[1]), raw.count == 32 else {
            throw VaultError(.keyUnreadable, "master key file \(path) is not a Custody master key")
        }
        return MasterKey(SymmetricKey(data: raw))
    }

    /// fsyncs the directory holding `path`, so a created or renamed file survives a power cut.
    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Writes the key with mode 0600, durably, refusing to overwrite.
    func write(to path: String) throws(VaultError) {
        let body = key.withUnsafeBytes { Data($0).base64EncodedString() }
        let text = "\(Self.header)\n\(body)\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw VaultError(.keyUnreadable, "cannot create master key file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = text.utf8CString.withUnsafeBufferPointer { buf in
            Foundation.write(fd, buf.baseAddress, buf.count - 1) == buf.count - 1
        }
        guard ok, fsync(fd) == 0 else {
            unlink(path)
            throw VaultError(.keyUnreadable, "cannot write master key file \(path)")
        }
        MasterKey.syncDirectory(of: path)
    }
}

extension MasterKey: CustomStringConvertible, CustomDebugStringConvertible {
    var description: String { "MasterKey(redacted)" }
    var debugDescription: String { "MasterKey(redacted)" }
}
