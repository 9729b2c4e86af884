import Hummingbird
import NIOCore

/// Per-request state: who is calling and from where.
struct AppContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var principal: Principal?
    let remoteIP: String

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress ?? "local"
    }

    /// The authenticated caller; routes behind `AuthMiddleware` always have one.
    func caller() throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        return principal
    }
}
