import Foundation

/// A real syslog daemon (rsyslogd) on 127.0.0.1 with a UDP and a TCP input. It parses each
/// message and writes its fields, `|`-separated, to `dir/out`: protocol version, facility,
/// severity, host, app, procid, msgid, structured data, reported time (RFC 3339), message.
public enum SyslogServer {
    public static let dir = "/tmp/custody-rsyslog-\(getpid())"
    public static let udpPort = TestTargets.freePort()
    public static let tcpPort = TestTargets.freePort()

    public static let available: Bool = start()

    private static func start() -> Bool {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") else { return false }
        TestTargets.sh("rm -rf \(dir); mkdir -p \(dir)")
        let conf = """
            global(workDirectory="\(dir)")
            module(load="imudp")
            module(load="imtcp")
            input(type="imudp" address="127.0.0.1" port="\(udpPort)")
            input(type="imtcp" address="127.0.0.1" port="\(tcpPort)")
            template(name="fields" type="string" string="%protocol-version%|%syslogfacility-text%|%syslogseverity-text%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%timereported:::date-rfc3339%|%msg%\\n")
            *.* action(type="omfile" file="\(dir)/out" template="fields")

            """
        try? conf.write(toFile: dir + "/rsyslog.conf", atomically: true, encoding: .utf8)
        let pid = Spawn.background(["/usr/sbin/rsyslogd", "-n", "-f", dir + "/rsyslog.conf", "-i", dir + "/rsyslogd.pid"])
        _ = Spawn.background(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill \(pid); sleep 1; rm -rf \(dir)"])
        return TestTargets.waitForPort(tcpPort)
    }

    /// One parsed message.
    public struct Parsed: Sendable {
        public var version, facility, severity, host, app, procID, msgID, structuredData, time, message: String
    }

    public static func received() -> [Parsed] {
        let text = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", maxSplits: 9, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 10 else { return nil }
            return Parsed(version: f[0], facility: f[1], severity: f[2], host: f[3], app: f[4], procID: f[5], msgID: f[6],
                structuredData: f[7], time: f[8], message: f[9])
        }
    }

    /// Waits (bounded, without blocking a thread) for a message whose text contains `text`.
    public static func await(containing text: String, seconds: Double = 10) async -> Parsed? {
        let end = Date().addingTimeInterval(seconds)
        repeat {
            if let m = received().first(where: { $0.message.contains(text) }) { return m }
            try? await Task.sleep(for: .milliseconds(50))
        } while Date() < end
        return nil
    }
}
