import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOSSL
import NIOHTTP1

/// Options every client command takes.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server URL (env CUSTODY_SERVER), e.g. https://localhost:7272") var server: String?
    @Option(help: "API token (env CUSTODY_TOKEN). Prefer the environment: argv is visible to other users.") var token: String?
    @Option(help: "CA certificate to trust, e.g. DATA/tls/server.crt (env CUSTODY_CA_FILE).") var caFile: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func client() throws -> APIClient {
        let env = ProcessInfo.processInfo.environment
        guard let server = server ?? env["CUSTODY_SERVER"] else { throw ValidationError("set --server or CUSTODY_SERVER") }
        return APIClient(base: server.hasSuffix("/") ? String(server.dropLast()) : server,
            token: token ?? env["CUSTODY_TOKEN"], caFile: caFile ?? env["CUSTODY_CA_FILE"])
    }
}

struct ClientError: Error, CustomStringConvertible {
    let description: String
}

/// A small JSON client for the REST API.
struct APIClient {
    let base: String
    let token: String?
    let caFile: String?

    func call(_ method: HTTPMethod, _ path: String, json body: [String: Any]? = nil, raw: (Data, String)? = nil) async throws -> Any? {
        let data = try await fetch(method, path, json: body, raw: raw)
        return data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
    }

    /// The response body as is (a bundle, say); a non-2xx answer throws with the server's error.
    func fetch(_ method: HTTPMethod, _ path: String, json body: [String: Any]? = nil, raw: (Data, String)? = nil) async throws -> Data {
        try await exchange(method, path, json: body, raw: raw).data
    }

    /// The body and the headers of the answer.
    func exchange(_ method: HTTPMethod, _ path: String, json body: [String: Any]? = nil, raw: (Data, String)? = nil) async throws
        -> (data: Data, headers: HTTPHeaders)
    {
        let client = makeClient(read: .seconds(90))
        do {
            let resp = try await client.execute(try request(method, path, json: body, raw: raw), timeout: .seconds(90))
            let bytes = try await resp.body.collect(upTo: 1 << 30)
            try await client.shutdown()
            let data = Data(buffer: bytes)
            try Self.check(resp.status.code, data)
            return (data, resp.headers)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Streams the answer's body into `out` as it comes (an export of any size is never held
    /// whole); returns the bytes written.
    func download(_ path: String, to out: FileHandle) async throws -> Int {
        let client = makeClient(read: .seconds(300))
        do {
            let resp = try await client.execute(try request(.GET, path, json: nil, raw: nil), timeout: .hours(24))
            guard (200..<300).contains(resp.status.code) else { try Self.check(resp.status.code, Data(buffer: try await resp.body.collect(upTo: 1 << 20))); return 0 }
            var written = 0
            for try await chunk in resp.body {
                try out.write(contentsOf: Data(buffer: chunk))
                written += chunk.readableBytes
            }
            try await client.shutdown()
            return written
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func makeClient(read: TimeAmount) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile { tls.trustRoots = .file(caFile) }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout = .init(connect: .seconds(10), read: read)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    private func request(_ method: HTTPMethod, _ path: String, json body: [String: Any]?, raw: (Data, String)?) throws -> HTTPClientRequest {
        var req = HTTPClientRequest(url: base + "/api/v1" + path)
        req.method = method
        if let token { req.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        } else if let (data, type) = raw {
            req.headers.add(name: "Content-Type", value: type)
            req.body = .bytes(ByteBuffer(data: data))
        }
        return req
    }

    /// A non-2xx answer throws with the server's error.
    private static func check(_ status: UInt, _ data: Data) throws {
        guard !(200..<300).contains(status) else { return }
        let value = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
        let err = (value as? [String: Any])?["error"] as? [String: Any]
        throw ClientError(description: "\(status) \(err?["code"] ?? "error"): \(err?["message"] ?? String(decoding: data, as: UTF8.self))")
    }
}

/// Output: JSON, or a table of the named columns.
enum Output {
    static func print(_ value: Any?, json: Bool, columns: [String]) {
        guard let value else { return }
        if json || columns.isEmpty {
            if let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]) {
                Swift.print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let rows = (value as? [[String: Any]]) ?? [(value as? [String: Any]) ?? [:]]
        let cells = rows.map { row in columns.map { c in row[c].map { "\($0)" } ?? "" } }
        let widths = columns.indices.map { i in ([columns[i]] + cells.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ items: [String]) -> String {
            zip(items, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        Swift.print(line(columns.map { $0.uppercased() }))
        for row in cells { Swift.print(line(row)) }
    }
}

/// Reads a secret from the terminal without echo, or a line from standard input.
func readSecret(prompt: String) throws -> String {
    if isatty(0) == 1, let p = getpass(prompt) { return String(cString: p) }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("expected the secret on standard input") }
    return line
}
