import AgentPlugins
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// The agent's one loop: enroll once, send results the server has not acknowledged, poll (long
/// poll when set), run each job while renewing its lease. Errors back off at random; the agent
/// only ever calls out.
struct AgentService: Service {
    let config: AgentConfig
    let client: AgentClient
    let logger: Logger
    #if os(Windows)
    var plugin: any ResetPlugin = WindowsLocalPlugin(accounts: Win32Accounts())
    #else
    var plugin: any ResetPlugin = LinuxLocalPlugin()
    #endif
    static let version = "0.7.0"

    var resultsDir: String { config.dataDir + "/results" }

    func run() async throws {
        var identity = try AgentIdentity.loadOrCreate(config.dataDir)
        try FileManager.default.createDirectory(atPath: resultsDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var failures = 0
        var reportedAt: Date? = nil
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if identity.agentID == nil { identity = try await enroll(identity) }
                try await flushResults(identity)
                let current = identity
                // The local accounts go with the first poll and then every 10 minutes (account sync).
                let accounts = reportedAt.map { Date().timeIntervalSince($0) > 600 } ?? true ? LocalAccounts.list() : nil
                let poll: PollResponse = try await cancelWhenGracefulShutdown {
                    try await client.post("/poll", PollRequest(wait: config.longPollSeconds, version: Self.version, accounts: accounts), identity: current,
                        timeout: .seconds(Int64(config.longPollSeconds) + 30))
                }
                failures = 0
                if accounts != nil { reportedAt = Date() }
                for job in poll.jobs { await run(job, identity) }
                if poll.jobs.isEmpty {
                    // After a long poll the server held to its end, a short spread; else the interval, ±20 %.
                    let pause = config.longPollSeconds > 0 ? Double.random(in: 0...0.25) : config.scheduleInterval * Double.random(in: 0.8...1.2)
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(pause)) }
                }
            } catch let e as AgentClient.Refused where e.status == 403 {
                logger.critical("the server refused this agent (revoked); stopping", metadata: ["reply": "\(e.body.prefix(200))"])
                throw e
            } catch {
                if Task.isShuttingDownGracefully { break }
                failures += 1
                let backoff = AgentBackoff.delay(retryAfter: (error as? AgentClient.Refused)?.retryAfter, failures: failures,
                    interval: config.scheduleInterval)
                logger.warning("poll failed; backing off", metadata: ["error": "\(error)", "seconds": "\(Int(backoff))"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(backoff)) }
            }
        }
        logger.info("agent stopped")
    }

    func enroll(_ identity: AgentIdentity) async throws -> AgentIdentity {
        guard let token = config.enrollmentToken else { throw AgentConfig.Failure(description: "not enrolled and no EnrollmentToken in Agent.conf") }
        var uts = utsname()
        uname(&uts)
        let arch = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let request = EnrollRequest(token: token, hostname: ProcessInfo.processInfo.hostName, os: "linux", arch: arch, version: Self.version,
            signingKey: identity.signing.publicKey.rawRepresentation, sealingKey: identity.sealing.publicKey.rawRepresentation)
        let reply: EnrollResponse = try await client.post("/enroll", request, identity: identity, enrolling: true)
        var enrolled = identity
        enrolled.agentID = reply.agentId
        try enrolled.save(config.dataDir)
        logger.notice("enrolled", metadata: ["agent": "\(reply.agentId)"])
        return enrolled
    }

    /// Runs one job, renewing its lease meanwhile; the answer is saved before it is sent, so a
    /// restart sends it again until the server acknowledges it.
    func run(_ job: AgentJob, _ identity: AgentIdentity) async {
        // Take the offer first: a job is run only once the server knows this agent has it.
        do {
            let _: [String: Int] = try await client.post("/jobs/\(job.id)/renew", LeaseRequest(leaseId: job.leaseId), identity: identity)
        } catch {
            logger.warning("could not take a job; the server offers it again", metadata: ["job": "\(job.id)", "error": "\(error)"])
            return
        }
        let response: PluginResponse = await withTaskGroup(of: PluginResponse?.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(1, Double(job.leaseSeconds) / 3)))
                    if Task.isCancelled { break }
                    let _: [String: Int]? = try? await client.post("/jobs/\(job.id)/renew", LeaseRequest(leaseId: job.leaseId), identity: identity)
                }
                return nil
            }
            group.addTask { await execute(job, identity) }
            var answer = PluginResponse(ok: false, code: "protocolError", message: "no answer")
            for await r in group {
                if let r {
                    answer = r
                    group.cancelAll()
                }
            }
            return answer
        }
        let file = resultsDir + "/\(job.id).json"
        do {
            let data = try JSONEncoder().encode(ResultRequest(leaseId: job.leaseId, response: response))
            FileManager.default.createFile(atPath: file + ".tmp", contents: data, attributes: [.posixPermissions: 0o600])
            rename(file + ".tmp", file)
        }
        catch { logger.error("cannot save a result", metadata: ["job": "\(job.id)"]) }
        logger.info("job done", metadata: ["job": "\(job.id)", "operation": "\(job.operation)", "ok": "\(response.ok)",
            "code": "\(response.code ?? "ok")"])
        try? await flushResults(identity)
    }

    func execute(_ job: AgentJob, _ identity: AgentIdentity) async -> PluginResponse {
        let hold = ProcessInfo.processInfo.environment["CUSTODY_AGENT_TEST_HOLD_SECONDS"].flatMap(Double.init)
        return await AgentJobRunner(plugin: plugin, holdAfterChange: hold).execute(job, sealing: identity.sealing)
    }

    /// Sends every saved answer; an acknowledged (or refused: lease lost) one is deleted.
    func flushResults(_ identity: AgentIdentity) async throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: resultsDir)) ?? []).filter { $0.hasSuffix(".json") }
        for name in names {
            let path = resultsDir + "/" + name
            guard let data = FileManager.default.contents(atPath: path), let result = try? JSONDecoder().decode(ResultRequest.self, from: data) else {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            do {
                let _: [String: String] = try await client.post("/jobs/\(name.dropLast(5))/result", result, identity: identity)
            } catch let e as AgentClient.Refused where e.status == 409 {
                logger.warning("the server no longer holds this lease; result dropped", metadata: ["job": "\(name.dropLast(5))"])
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
