import Crypto
import Foundation

/// Audit records moved out of the trail by a purge: JSON lines, a header first, the records oldest
/// first, and a trailer with the SHA-256 of everything before it. It verifies on its own: ids
/// follow each other, each record chains to the one before from the header's `prevHash`, and,
/// given the vault's audit key, each record's keyed digest is recomputed.
struct AuditArchive {
    struct Header: Codable, Sendable, Equatable {
        var custodyAuditArchive = 1
        var firstId: Int64
        var lastId: Int64
        var count: Int
        /// The hash the first record chains to (the genesis, or the checkpoint of an earlier purge).
        var prevHash: String
        var lastHash: String
        var before: Date
        var createdAt: Date
    }

    /// The digest of everything before it, and an HMAC of that digest under the audit key, so
    /// neither the header nor the ends can be rewritten without the key.
    struct Trailer: Codable {
        var sha256: String
        var mac: String
    }

    static func mac(_ sha256: String, key: Data) -> String {
        AuditEntry.digest(key: key, prev: sha256, id: 0, at: 0, fields: ["audit.archive"])
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()

    /// Writes an archive at `path` (new, mode 0600) from pages of records, synced before it returns.
    /// Every record's keyed digest is checked on the way: a purge never archives (and so never
    /// hides) a broken chain or an alarm.
    static func write(to path: String, header: Header, key: Data, pages: (_ after: Int64) async throws -> [AuditEntry]) async throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DomainError.conflict("cannot create the audit archive \(path): \(String(cString: strerror(errno)))") }
        let out = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var digest = SHA256()
        var bytes = 0
        func line(_ data: Data) throws {
            let l = data + Data("\n".utf8)
            digest.update(data: l)
            try out.write(contentsOf: l)
            bytes += l.count
        }
        do {
            try line(try encoder.encode(header))
            var after = header.firstId - 1
            var written = 0
            var prev = header.prevHash
            while after < header.lastId {
                let page = try await pages(after)
                guard let last = page.last else { break }
                for e in page where e.id <= header.lastId {
                    guard e.id == after + 1, e.prevHash == prev,
                        AuditEntry.digest(key: key, prev: prev, id: e.id, at: e.at, fields: e.chainFields) == e.hash
                    else { throw DomainError.conflict("record \(e.id) does not verify: run custody audit verify; nothing was purged") }
                    guard e.operation != AuditHead.alarm else {
                        throw DomainError.conflict("record \(e.id) records that the audit head was rewritten: an alarm is never purged")
                    }
                    after = e.id
                    try line(try encoder.encode(e))
                    prev = e.hash
                    written += 1
                }
                if last.id > header.lastId { break }
            }
            guard written == header.count, prev == header.lastHash else {
                throw DomainError.conflict("the trail changed while it was archived (\(written) of \(header.count) records)")
            }
            let sha = Data(digest.finalize()).hexString
            try out.write(contentsOf: try encoder.encode(Trailer(sha256: sha, mac: mac(sha, key: key))) + Data("\n".utf8))
            try out.synchronize()
            try out.close()
            MasterKey.syncDirectory(of: path)
            return bytes
        } catch {
            try? out.close()
            unlink(path)
            throw error
        }
    }

    struct Verified: Sendable {
        var header: Header
        var keyed: Bool
    }

    /// Reads the archive a line at a time; throws naming the first problem.
    static func verify(path: String, key: Data?) throws -> Verified {
        guard let reader = LineReader(path: path) else { throw AuditArchiveError("cannot read \(path)") }
        var digest = SHA256()
        guard let first = reader.next(), let header = try? decoder.decode(Header.self, from: first), header.custodyAuditArchive == 1 else {
            throw AuditArchiveError("\(path) is not a Custody audit archive (format 1)")
        }
        guard header.firstId >= 1, header.firstId <= header.lastId, header.lastId < Int64.max / 2,
            Int64(header.count) == header.lastId - header.firstId + 1
        else { throw AuditArchiveError("the archive's header names an impossible range") }
        digest.update(data: first + Data("\n".utf8))
        var expected = header.firstId
        var prev = header.prevHash
        var trailer: Trailer?
        while let line = reader.next() {
            if trailer != nil { throw AuditArchiveError("the archive goes on after its trailer") }
            guard expected <= header.lastId + 1 else { throw AuditArchiveError("the archive holds more records than its header says") }
            if let e = try? decoder.decode(AuditEntry.self, from: line) {
                guard e.id == expected else { throw AuditArchiveError("record \(expected) is missing before record \(e.id)") }
                guard e.prevHash == prev else { throw AuditArchiveError("record \(e.id) does not follow the record before it") }
                if let key, AuditEntry.digest(key: key, prev: prev, id: e.id, at: e.at, fields: e.chainFields) != e.hash {
                    throw AuditArchiveError("record \(e.id) was altered")
                }
                digest.update(data: line + Data("\n".utf8))
                prev = e.hash
                expected += 1
            } else if let t = try? decoder.decode(Trailer.self, from: line) {
                trailer = t
            } else {
                throw AuditArchiveError("line for record \(expected) is not an audit record")
            }
        }
        guard let trailer else { throw AuditArchiveError("the archive has no trailer: it was cut short") }
        guard expected - 1 == header.lastId, prev == header.lastHash, Int(expected - header.firstId) == header.count else {
            throw AuditArchiveError("the archive holds records \(header.firstId)...\(expected - 1), its header says \(header.firstId)...\(header.lastId)")
        }
        let sha = Data(digest.finalize()).hexString
        guard trailer.sha256 == sha else { throw AuditArchiveError("the archive's digest does not match its content") }
        if let key, trailer.mac != mac(sha, key: key) {
            throw AuditArchiveError("the archive's trailer does not authenticate under this vault's audit key")
        }
        return Verified(header: header, keyed: key != nil)
    }
}

struct AuditArchiveError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Lines of a file without reading it whole.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var done = false

    init?(path: String) {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        handle = h
    }

    deinit { try? handle.close() }

    func next() -> Data? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0a) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                return Data(line)
            }
            if done {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data() }
                return buffer
            }
            if let more = try? handle.read(upToCount: 1 << 16), !more.isEmpty { buffer.append(more) } else { done = true }
        }
    }
}
