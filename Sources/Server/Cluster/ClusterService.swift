import Foundation

/// What `GET /api/v1/cluster` shows.
struct ClusterView: Codable, Sendable, Equatable {
    struct Node: Codable, Sendable, Equatable {
        var id: String
        var version: String
        var startedAt: Date?
        var lastHeartbeatAt: Date?
        var runningTasks: Int
        /// The node that answered.
        var this: Bool
    }
    var store: String
    var node: String
    var nodes: [Node]
}

/// The nodes serving this vault (administrators), and this node's health for `/healthz`.
struct ClusterService: Sendable {
    let store: any ClusterStore
    let authorizer: Authorizer
    let node: String
    let version: String
    let kind: String
    let startedAt: Date

    func view(by p: Principal) async throws -> ClusterView {
        try authorizer.check(p, .readCluster)
        var nodes = try await store.nodes().map {
            ClusterView.Node(id: $0.id, version: $0.version, startedAt: $0.startedAt, lastHeartbeatAt: $0.heartbeatAt, runningTasks: $0.runningTasks,
                this: $0.id == node)
        }
        if !nodes.contains(where: \.this) {
            nodes.insert(ClusterView.Node(id: node, version: version, startedAt: startedAt, lastHeartbeatAt: nil,
                runningTasks: kind == "sqlite" ? try await store.runningTasks() : 0, this: true), at: 0)
        }
        return ClusterView(store: kind, node: node, nodes: nodes)
    }

    /// `ok node=NAME store=KIND database=reachable`, or why not (the caller answers 503). A
    /// database that does not answer within `deadline` is unreachable: a load balancer asking
    /// must hear it at once, not when the pool gives up on reconnecting.
    func health(deadline: Duration = .seconds(2)) async -> (ok: Bool, text: String) {
        // nil: answered; else what is wrong.
        let problem = await withTaskGroup(of: String?.self) { group in
            group.addTask { [store] in
                do {
                    try await store.ping()
                    return nil
                } catch let e as StoreUnavailable where e.message.contains("master key") {
                    return "other-master-key"
                } catch { return "unreachable" }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return "unreachable"
            }
            let first = await group.next() ?? "unreachable"
            group.cancelAll()
            return first
        }
        guard let problem else { return (true, "ok node=\(node) store=\(kind) database=reachable") }
        return (false, "unavailable node=\(node) store=\(kind) database=\(problem)")
    }
}

/// The release, as nodes report it to each other.
enum CustodyRelease {
    static let version = "0.13.0-dev"
}
