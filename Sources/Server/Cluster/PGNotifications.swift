import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Carries wake-ups between the nodes sharing a PostgreSQL store: a change to `tasks` on any node
/// wakes this node's task engine and `GET /tasks/{id}?wait=`; a change to an agent's jobs wakes
/// that agent's long poll and the resets waiting on it here (triggers `NOTIFY`, migration pg3); a
/// failed login or a sign-in on any node is counted by this node's login throttle too.
/// One connection listens; when it is lost, it is opened again with back-off, and everything is
/// poked once, since a notification may have been missed meanwhile.
struct PGNotifications: Service {
    static let tasks = "custody_tasks"
    static let agentJobs = "custody_agent_jobs"

    let db: PGDatabase
    let custody: Custody

    func run() async throws {
        var delay = Duration.milliseconds(250)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await listen() }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                custody.logger.warning("lost the PostgreSQL notification connection; listening again", metadata: ["retryIn": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
            wakeAll()
        }
    }

    private func listen() async throws {
        try await db.client.withConnection { connection in
            await PGSocketOptions.apply(to: connection, logger: custody.logger)
            let tasks = try await connection.listen(Self.tasks)
            let jobs = try await connection.listen(Self.agentJobs)
            let logins = try await connection.listen(LoginNotices.channel)
            wakeAll()  // what changed before the listen began
            // Failed logins stored while no notice could be heard.
            do { try await custody.identity.mergeStoredFailures() } catch {
                custody.logger.warning("could not read back failed logins", metadata: ["error": "\(type(of: error))"])
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in tasks {
                        custody.taskChanged.poke()
                        custody.taskSignal.poke()
                    }
                }
                group.addTask {
                    for try await n in jobs where !n.payload.isEmpty {
                        custody.agentHub.signal(n.payload).poke()
                        custody.agentHub.jobs(of: n.payload).poke()
                    }
                }
                group.addTask {
                    for try await n in logins {
                        // Forged, altered, stale or this node's own: ignored (`LoginNotices.open`).
                        guard let notice = custody.loginNotices?.open(n.payload, now: custody.now().timeIntervalSince1970,
                            window: custody.loginThrottle.limits.window)
                        else { continue }
                        custody.loginThrottle.heard(notice.kind == .failed ? .failed : .succeeded, name: notice.name, address: notice.address,
                            at: notice.at)
                    }
                }
                try await group.next()
                group.cancelAll()
                throw PGError(sqlState: "08006", message: "the notification connection ended")
            }
        }
    }

    private func wakeAll() {
        custody.taskChanged.poke()
        custody.taskSignal.poke()
        custody.agentHub.pokeAll()
    }
}

/// Keeps this node's hold on its running tasks and takes over those of a node that stopped
/// (`TaskStore.heartbeat`, `recoverLapsed`), four times per lease: a reset sends only while the
/// last renewal is under half a lease old (`NodeLease`), so one slow round does not stop it.
struct NodeHeartbeat: Service {
    let custody: Custody
    let node: PGNode

    func run() async throws {
        let every = Duration.milliseconds(Int64(node.leaseSeconds * 1000 / 4))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await custody.engine.store.heartbeat(held: custody.engine.held.all)
                custody.nodeLease?.renew()
                let taken = try await custody.engine.recoverLapsed()
                if taken > 0 {
                    custody.logger.notice("took over tasks whose hold lapsed (a node that stopped, or a run that gave up)", metadata: ["count": "\(taken)"])
                    custody.taskSignal.poke()
                }
            } catch {
                custody.logger.warning("heartbeat failed", metadata: ["error": "\(PGNotifications.describe(error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
        }
        // A graceful stop leaves the list of nodes at once (a key rotation waits for no live node).
        if Task.isShuttingDownGracefully { try? await custody.engine.store.leave() }
    }
}

extension PGNotifications {
    /// An error for the log: PostgreSQL's own message, never a statement or its values.
    static func describe(_ error: any Error) -> String {
        switch PGDatabase.unwrap(error) {
        case let e as PGError: e.description
        case let e as StoreError: e.description
        default: String(describing: type(of: error))
        }
    }
}
