import Crypto
import Foundation

/// Writes a backup file: magic, header, then entries (`name`, size, bytes) as a stream cut into
/// AES-256-GCM frames. Each frame's associated data binds the header, the frame's place and
/// whether it is the last, so a frame moved, dropped or cut off fails to open.
final class BackupWriter {
    private let handle: FileHandle
    private let key: SymmetricKey
    private let headerHash: Data
    private let chunkBytes: Int
    private var pending = Data()
    private var index: UInt64 = 0
    /// SHA-256 of every plain byte so far: the master-key seal covers the whole content.
    private var digest = SHA256()
    private let sealKey: SymmetricKey?
    let partialPath: String
    let path: String
    private(set) var bytes = 0

    /// Creates `path.partial` (mode 0600, never over an existing file); `finish` renames it to `path`.
    init(path: String, header: BackupHeader, key: BackupKey, sealKey: SymmetricKey?) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw BackupError(.badInput, "\(path) exists already; choose another name") }
        self.path = path
        partialPath = path + ".partial"
        let fd = open(partialPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BackupError(.io, "cannot create \(partialPath): \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.key = key.key
        self.sealKey = sealKey
        chunkBytes = header.chunkBytes
        let head = try Self.prefix(header)
        headerHash = Data(SHA256.hash(data: head))
        try write(head)
    }

    /// Magic, header length (u32, big-endian) and header: what every frame authenticates.
    static func prefix(_ header: BackupHeader) throws -> Data {
        let json = try header.encoded()
        return BackupHeader.magic + Self.u32(UInt32(json.count)) + json
    }

    func add(name: String, data: Data) throws {
        try entryHead(name, size: data.count)
        try append(data)
    }

    /// Streams a file into the backup without holding it in memory.
    func add(name: String, file: String) throws {
        guard let input = FileHandle(forReadingAtPath: file) else { throw BackupError(.io, "cannot read \(file)") }
        defer { try? input.close() }
        let size = try Self.regularSize(input.fileDescriptor, file)
        try entryHead(name, size: size)
        var copied = 0
        while copied < size {
            guard let piece = try input.read(upToCount: min(chunkBytes, size - copied)), !piece.isEmpty else {
                throw BackupError(.io, "\(file) shrank while it was read")
            }
            try append(piece)
            copied += piece.count
        }
    }

    /// The end mark and the last frame, synced; the file then takes its name.
    func finish() throws {
        if let sealKey {
            // Last entry: an HMAC under the master key of the header and everything before it, so a
            // passphrase alone cannot forge a backup that a restore given the master key accepts.
            let mac = Data(HMAC<SHA256>.authenticationCode(for: headerHash + Data(digest.finalize()), using: sealKey))
            try add(name: BackupEntry.seal.rawValue, data: mac)
        }
        pending.append(Self.u16(0))
        try flush(final: true)
        try handle.synchronize()
        try handle.close()
        // link(2) never replaces: a file that appeared at `path` meanwhile is kept and this one fails.
        guard link(partialPath, path) == 0 else {
            unlink(partialPath)
            throw BackupError(.io, "cannot name the backup \(path): \(String(cString: strerror(errno)))")
        }
        unlink(partialPath)
        MasterKey.syncDirectory(of: path)
    }

    /// Removes what was written (a failed backup leaves no file behind).
    func abandon() {
        try? handle.close()
        unlink(partialPath)
    }

    private func entryHead(_ name: String, size: Int) throws {
        let n = Data(name.utf8)
        precondition(!n.isEmpty && n.count < 1024)
        try append(Self.u16(UInt16(n.count)) + n + Self.u64(UInt64(size)))
    }

    private func append(_ data: Data) throws {
        digest.update(data: data)
        pending.append(data)
        while pending.count >= chunkBytes { try flush(final: false) }
    }

    private func flush(final: Bool) throws {
        let take = final ? pending.count : chunkBytes
        let plain = pending.prefix(take)
        let sealed = try AES.GCM.seal(plain, using: key, authenticating: Self.aad(headerHash, index, final: final))
        guard let combined = sealed.combined else { throw BackupError(.io, "sealing a frame failed") }
        try write(Self.u32(UInt32(combined.count)) + combined)
        pending = Data(pending.dropFirst(take))
        index += 1
    }

    private func write(_ data: Data) throws {
        do { try handle.write(contentsOf: data) } catch { throw BackupError(.io, "cannot write \(partialPath): \(error)") }
        bytes += data.count
    }

    /// The size of an opened file (a symlink's target, not the link), refusing anything but a regular file.
    static func regularSize(_ fd: Int32, _ path: String) throws(BackupError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw BackupError(.io, "\(path) is not a regular file") }
        return Int(info.st_size)
    }

    static func aad(_ headerHash: Data, _ index: UInt64, final: Bool) -> Data { headerHash + u64(index) + Data([final ? 1 : 0]) }
    static func u16(_ v: UInt16) -> Data { Data([UInt8(v >> 8), UInt8(v & 0xff)]) }
    static func u32(_ v: UInt32) -> Data { Data((0..<4).reversed().map { UInt8((v >> (8 * UInt32($0))) & 0xff) }) }
    static func u64(_ v: UInt64) -> Data { Data((0..<8).reversed().map { UInt8((v >> (8 * UInt64($0))) & 0xff) }) }
}
