import CZlib
import Foundation

/// A minimal ustar archive, gzip-compressed: enough for an agent bundle that `tar xzf` reads.
struct TarGz {
    private var tar = Data()

    mutating func add(_ name: String, _ contents: Data, mode: Int) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { header[offset + i] = b }
        }
        func octal(_ v: Int, width: Int) -> String { String(repeating: "0", count: max(0, width - 1 - String(v, radix: 8).count)) + String(v, radix: 8) }
        put(name, at: 0, width: 100)
        put(octal(mode, width: 8), at: 100, width: 7)
        put(octal(0, width: 8), at: 108, width: 7)
        put(octal(0, width: 8), at: 116, width: 7)
        put(octal(contents.count, width: 12), at: 124, width: 11)
        put(octal(Int(Date().timeIntervalSince1970), width: 12), at: 136, width: 11)
        put("        ", at: 148, width: 8)
        header[156] = UInt8(ascii: "0")
        put("ustar\u{0}00", at: 257, width: 8)
        put("root", at: 265, width: 32)
        put("root", at: 297, width: 32)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + "\u{0} ", at: 148, width: 8)
        tar.append(contentsOf: header)
        tar.append(contents)
        tar.append(Data(count: (512 - contents.count % 512) % 512))
    }

    /// The archive, gzip-compressed by zlib (fast level: the agent binary dominates).
    func gzipped() throws -> Data {
        var archive = tar
        archive.append(Data(count: 1024))
        var stream = z_stream()
        guard deflateInit2_(&stream, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DomainError(.internal, "gzip_failed", "zlib cannot start")
        }
        defer { deflateEnd(&stream) }
        var out = Data(count: Int(deflateBound(&stream, UInt(archive.count))))
        let written = archive.withUnsafeMutableBytes { (input: UnsafeMutableRawBufferPointer) -> Int in
            out.withUnsafeMutableBytes { (output: UnsafeMutableRawBufferPointer) -> Int in
                stream.next_in = input.bindMemory(to: Bytef.self).baseAddress
                stream.avail_in = uInt(input.count)
                stream.next_out = output.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(output.count)
                return deflate(&stream, Z_FINISH) == Z_STREAM_END ? Int(stream.total_out) : -1
            }
        }
        guard written >= 0 else { throw DomainError(.internal, "gzip_failed", "zlib could not compress the bundle") }
        return out.prefix(written)
    }
}
