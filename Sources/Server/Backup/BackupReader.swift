import Crypto
import Foundation

/// Reads a backup file written by `BackupWriter`, authenticating every frame before any of its
/// bytes are handed on, and refusing a file cut short or carrying bytes after its end.
final class BackupReader {
    let header: BackupHeader
    private let handle: FileHandle
    private let fileSize: Int
    private var offset: Int
    let headerHash: Data
    private var digest = SHA256()
    /// The digest of everything before the seal entry, once it is read.
    private(set) var sealedDigest: Data?
    private let key: SymmetricKey
    private var buffer = Data()
    private var index: UInt64 = 0
    private var finalSeen = false

    /// The header alone, with the file opened (no key needed).
    static func header(of path: String) throws(BackupError) -> (header: BackupHeader, prefix: Data) {
        guard let h = FileHandle(forReadingAtPath: path) else { throw BackupError(.io, "cannot read \(path)") }
        defer { try? h.close() }
        let start = (try? h.read(upToCount: BackupHeader.magic.count + 4)) ?? nil ?? Data()
        guard start.count == BackupHeader.magic.count + 4, start.prefix(BackupHeader.magic.count) == BackupHeader.magic else {
            throw BackupError(.notABackup, "\(path) is not a Custody backup")
        }
        let length = start.suffix(4).reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= BackupHeader.maxHeaderBytes, let json = try? h.read(upToCount: length), json.count == length else {
            throw BackupError(.notABackup, "\(path) has no readable backup header")
        }
        return (try BackupHeader.decode(json), start + json)
    }

    init(path: String, key: BackupKey) throws(BackupError) {
        let (header, prefix) = try Self.header(of: path)
        guard key.check == header.keyCheck else {
            throw BackupError(.wrongKey, header.mode == .passphrase
                ? "the passphrase is not the one this backup was made with"
                : "the master key given is not the one this backup was made with (its key id is \(header.keyId ?? "?"))")
        }
        guard let h = FileHandle(forReadingAtPath: path) else { throw BackupError(.io, "cannot read \(path)") }
        self.header = header
        handle = h
        fileSize = try BackupWriter.regularSize(h.fileDescriptor, path)
        offset = prefix.count
        headerHash = Data(SHA256.hash(data: prefix))
        self.key = key.key
        try? h.seek(toOffset: UInt64(offset))
    }

    deinit { try? handle.close() }

    /// Every entry in order: `begin(name, size)`, then its bytes through `data` in pieces.
    func read(begin: (String, Int) throws -> Void, data: (Data) throws -> Void) throws {
        while true {
            let before = digest
            let nameLength = Int(try take(2).reduce(0) { $0 << 8 | Int($1) })
            if nameLength == 0 { break }
            guard nameLength < 1024, let name = String(data: try take(nameLength), encoding: .utf8) else {
                throw BackupError(.damaged, "an entry of the backup has no readable name")
            }
            if name == BackupEntry.seal.rawValue { sealedDigest = Data(before.finalize()) }
            let size = try take(8).reduce(0) { $0 << 8 | Int($1) }
            try begin(name, size)
            var left = size
            while left > 0 {
                if buffer.isEmpty { try readFrame() }
                let piece = buffer.prefix(left)
                buffer = Data(buffer.dropFirst(piece.count))
                digest.update(data: piece)
                left -= piece.count
                try data(piece)
            }
        }
        guard finalSeen, buffer.isEmpty, offset == fileSize else {
            throw BackupError(.damaged, "the backup goes on after its end mark; it was altered")
        }
    }

    private func take(_ n: Int) throws(BackupError) -> Data {
        while buffer.count < n { try readFrame() }
        let out = buffer.prefix(n)
        buffer = Data(buffer.dropFirst(n))
        digest.update(data: out)
        return out
    }

    private func readFrame() throws(BackupError) {
        guard !finalSeen else { throw BackupError(.damaged, "the backup ends inside an entry; it was altered") }
        guard offset + 4 <= fileSize, let lengthBytes = try? handle.read(upToCount: 4), lengthBytes.count == 4 else {
            throw BackupError(.damaged, "the backup is cut short after frame \(index)")
        }
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard length >= 28, length <= header.chunkBytes + 28 else { throw BackupError(.damaged, "frame \(index) has an impossible length") }
        guard offset + 4 + length <= fileSize, let sealed = try? handle.read(upToCount: length), sealed.count == length else {
            throw BackupError(.damaged, "the backup is cut short inside frame \(index)")
        }
        offset += 4 + length
        let final = offset == fileSize
        guard let box = try? AES.GCM.SealedBox(combined: sealed) else { throw BackupError(.damaged, "frame \(index) is malformed") }
        if let plain = try? AES.GCM.open(box, using: key, authenticating: BackupWriter.aad(headerHash, index, final: final)) {
            buffer.append(plain)
        } else if final, (try? AES.GCM.open(box, using: key, authenticating: BackupWriter.aad(headerHash, index, final: false))) != nil {
            throw BackupError(.damaged, "the backup is cut short after frame \(index)")
        } else {
            throw BackupError(.damaged, "frame \(index) failed its integrity check; the backup was altered or damaged")
        }
        finalSeen = final
        index += 1
    }
}
