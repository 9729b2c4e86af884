import Foundation

/// `Agent.conf`: `Key=Value` lines, `#` comments. Relative paths are relative to the file.
struct AgentConfig: Sendable {
    var serverURL: String
    var scheduleInterval: Double = 60
    var longPollSeconds: Int = 25
    var dataDir: String
    var caCertificate: String
    var enrollmentToken: String?

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func load(_ path: String) throws -> AgentConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Failure(description: "cannot read \(path)") }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base + "/" + p }
        var values: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { throw Failure(description: "\(path):\(n + 1): expected Key=Value") }
            let key = String(line[..<eq]).trimmingCharacters(in: .whitespaces)
            guard ["ServerURL", "ScheduleInterval", "LongPollSeconds", "DataDir", "CACertificate", "EnrollmentToken"].contains(key) else {
                throw Failure(description: "\(path):\(n + 1): unknown key \(key)")
            }
            values[key] = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        guard let url = values["ServerURL"], url.hasPrefix("https://") else { throw Failure(description: "ServerURL must be an https:// URL") }
        var c = AgentConfig(serverURL: url.hasSuffix("/") ? String(url.dropLast()) : url, dataDir: resolve(values["DataDir"] ?? "data"),
            caCertificate: resolve(values["CACertificate"] ?? "server.crt"))
        if let s = values["ScheduleInterval"] {
            guard let v = Double(s), (1...86400).contains(v) else { throw Failure(description: "ScheduleInterval must be 1...86400 seconds") }
            c.scheduleInterval = v
        }
        if let s = values["LongPollSeconds"] {
            guard let v = Int(s), (0...300).contains(v) else { throw Failure(description: "LongPollSeconds must be 0...300") }
            c.longPollSeconds = v
        }
        c.enrollmentToken = values["EnrollmentToken"].flatMap { $0.isEmpty ? nil : $0 }
        return c
    }
}
