/// Where syslog messages go and in which format.
public struct SyslogSettings: Sendable {
    public enum Transport: String, Codable, Sendable, CaseIterable { case udp, tcp }
    public enum Format: String, Codable, Sendable, CaseIterable { case rfc5424, rfc3164 }

    public var host: String
    public var port: Int
    public var transport: Transport
    public var format: Format
    /// A facility name (`auth`, `local0` …); PMP's default is `auth`.
    public var facility: String
    public var appName: String
    public var timeout: Duration

    public init(host: String, port: Int = 514, transport: Transport = .udp, format: Format = .rfc5424, facility: String = "auth",
        appName: String = "custody", timeout: Duration = .seconds(10))
    {
        self.host = host
        self.port = port
        self.transport = transport
        self.format = format
        self.facility = facility
        self.appName = appName
        self.timeout = timeout
    }

    public static let facilities: [String: Int] = [
        "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8, "cron": 9,
        "authpriv": 10, "ftp": 11, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21,
        "local6": 22, "local7": 23,
    ]
}
