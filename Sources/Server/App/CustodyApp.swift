import Foundation
import Hummingbird
import Logging
import Prometheus

/// Builds the router: public routes, the authenticated API, health and metrics.
enum CustodyApp {
    static let apiPrefix = "/api/v1"

    static func router(_ custody: Custody, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> (Router<AppContext>, RouteTable) {
        let router = Router(context: AppContext.self)
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: ErrorMiddleware())
        // Request counts and durations by route template (no ids, no query) for /metrics.
        router.add(middleware: MetricsMiddleware())
        let api = router.group(RouterPath(apiPrefix))
        let secured = router.group(RouterPath(apiPrefix)).add(middleware: AuthMiddleware(custody: custody,
            allowedWhileMustChange: [apiPrefix + "/auth/password", apiPrefix + "/auth/logout", apiPrefix + "/auth/me"]))
        let table = RouteTable(open: api, secured: secured, prefix: apiPrefix)
        let routes = Routes(custody: custody)
        routes.identity(table)
        routes.totp(table)
        routes.users(table)
        routes.resources(table)
        routes.accounts(table)
        routes.shares(table)
        routes.groups(table)
        routes.admin(table)
        routes.importCSV(table)
        routes.reset(table)
        routes.listeners(table)
        routes.access(table)
        routes.rotation(table)
        routes.integrity(table)
        routes.backups(table)
        routes.auditLifecycle(table)
        routes.reports(table)
        routes.reportSchedule(table)
        routes.notifications(table)
        routes.directory(table)
        routes.agents(table)
        routes.agentProtocol(router.group("/agent/v1"))
        let document = OpenAPI.Cached(table)
        table.add(.get, "/openapi.json", "This document", response: .object([String: JSONValue].self), authenticated: false) { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document.data)))
        }
        do {
            try WebConsole(custody: custody).register(router)
        } catch {
            custody.logger.error("the web console is off", metadata: ["reason": "\(error)"])
        }
        // Load balancers: 200 while this node and its database answer, else 503. On SQLite the
        // body stays "ok" (the database is a local file the process holds open).
        router.get("/healthz") { _, _ -> Response in
            guard custody.sqlite == nil else { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok"))) }
            let (ok, text) = await custody.cluster.health()
            return Response(status: ok ? .ok : .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/metrics") { _, _ in
            var buffer = [UInt8]()
            metrics.emit(into: &buffer)
            // Read when asked, not kept as a metric: the agents' long polls held on this node.
            return String(decoding: buffer, as: UTF8.self)
                + "# TYPE custody_agent_long_polls gauge\ncustody_agent_long_polls \(custody.agentHub.longPolls)\n"
        }
        return (router, table)
    }
}
