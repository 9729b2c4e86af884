import Foundation

/// A real SMTP server (aiosmtpd) on 127.0.0.1 with three listeners: plain without authentication,
/// STARTTLS with required authentication, and implicit TLS offering only AUTH LOGIN. Each message
/// received is written to `dir/mail` as JSON (envelope and raw content). Started once per test process.
public enum MailServer {
    public static let dir = "/tmp/custody-smtp-\(getpid())"
    public static let plainPort = TestTargets.freePort()
    public static let startTLSPort = TestTargets.freePort()
    public static let tlsPort = TestTargets.freePort()
    public static let user = "mailer"
    public static let password = "Mail-Secret-\(getpid())"
    public static var caFile: String { dir + "/ca.crt" }

    public static let available: Bool = start()

    static let script = """
        import asyncio, json, os, ssl, sys, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
        d, user, pw = sys.argv[1], sys.argv[2], sys.argv[3].encode()
        ports = [int(p) for p in sys.argv[4:7]]
        os.makedirs(d + "/mail", exist_ok=True)
        class H:
            async def handle_DATA(self, server, session, env):
                rec = {"from": env.mail_from, "to": env.rcpt_tos, "content": env.original_content.decode("utf-8", "replace"),
                       "tls": session.ssl is not None, "auth": bool(session.authenticated)}
                p = d + "/mail/%d-%d.json" % (time.time_ns(), os.getpid())
                with open(p + ".tmp", "w") as f: json.dump(rec, f)
                os.rename(p + ".tmp", p)
                return "250 OK"
        def auth(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == pw
            return AuthResult(success=ok, handled=False)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(d + "/server.crt", d + "/server.key")
        cs = [Controller(H(), hostname="127.0.0.1", port=ports[0], decode_data=False),
              Controller(H(), hostname="127.0.0.1", port=ports[1], tls_context=ctx, require_starttls=True,
                         auth_required=True, authenticator=auth),
              Controller(H(), hostname="127.0.0.1", port=ports[2], ssl_context=ctx, auth_required=True,
                         auth_require_tls=False, authenticator=auth, auth_exclude_mechanism=["PLAIN"],
                         server_hostname="localhost")]
        for c in cs: c.start()
        print("ready", flush=True)
        ppid = os.getppid()
        while True:
            time.sleep(1)
            if os.getppid() != ppid: break
        for c in cs: c.stop()
        """

    private static func start() -> Bool {
        guard Spawn.run(["/usr/bin/env", "python3", "-c", "import aiosmtpd"]).status == 0 else { return false }
        TestTargets.sh("rm -rf \(dir); mkdir -p \(dir)/mail")
        TestCA.issue(in: dir)
        try? script.write(toFile: dir + "/smtpd.py", atomically: true, encoding: .utf8)
        let pid = Spawn.background(["/usr/bin/env", "python3", dir + "/smtpd.py", dir, user, password,
            String(plainPort), String(startTLSPort), String(tlsPort)])
        _ = Spawn.background(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill \(pid); sleep 1; rm -rf \(dir)"])
        guard TestTargets.waitForPort(plainPort) && TestTargets.waitForPort(startTLSPort) && TestTargets.waitForPort(tlsPort) else { return false }
        // Listening is not serving: wait (bounded) for the greeting, which a crowded machine may delay.
        let greeting = Spawn.run(["/usr/bin/env", "python3", "-c",
            "import socket; s = socket.create_connection(('127.0.0.1', \(plainPort)), timeout=120); print(s.recv(100).decode(errors='replace'))"],
            timeout: 150)
        return greeting.out.hasPrefix("220")
    }

    /// One received message.
    public struct Received: Decodable, Sendable {
        public var from: String
        public var to: [String]
        public var content: String
        public var tls: Bool
        public var auth: Bool
    }

    /// Every message received so far, oldest first.
    public static func received() -> [Received] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/mail")) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            do { return try JSONDecoder().decode(Received.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/mail/" + name))) } catch {
                print("MailServer: cannot read \(name): \(error)")
                return nil
            }
        }
    }

    /// Waits (bounded, without blocking a thread) until a message to `rcpt` whose content contains `text` arrives.
    public static func await(to rcpt: String, containing text: String = "", seconds: Double = 60) async -> Received? {
        let end = Date().addingTimeInterval(seconds)
        repeat {
            if let m = received().first(where: { $0.to.contains(rcpt) && (text.isEmpty || $0.content.contains(text)) }) { return m }
            try? await Task.sleep(for: .milliseconds(50))
        } while Date() < end
        return nil
    }
}
