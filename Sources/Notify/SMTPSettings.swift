import Shared

/// Where and how email leaves: host, port, transport security and optional authentication.
public struct SMTPSettings: Sendable {
    public enum Security: String, Codable, Sendable, CaseIterable {
        /// Plain SMTP; authentication is refused on it.
        case none
        /// Plain connect, then `STARTTLS` before anything else.
        case starttls
        /// TLS from the first byte (SMTPS, usually port 465).
        case tls
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: Secret?
    /// The envelope sender and the `From:` header.
    public var from: String
    /// The name sent with `EHLO`.
    public var heloName: String
    /// PEM file of the CAs trusted for the server's certificate; nil uses the system's.
    public var caFile: String?
    public var timeout: Duration

    public init(host: String, port: Int, security: Security = .starttls, username: String? = nil, password: Secret? = nil,
        from: String, heloName: String = "localhost", caFile: String? = nil, timeout: Duration = .seconds(30))
    {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.heloName = heloName
        self.caFile = caFile
        self.timeout = timeout
    }
}
