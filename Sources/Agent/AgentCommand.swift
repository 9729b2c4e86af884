import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "custody-agent",
        abstract: "Custody's agent: changes and checks local account passwords for the server. It only calls out.",
        discussion: """
            At first start it makes its keys in DataDir (0600) and enrolls with the bundle's one-time token. From then on \
            every request is signed. It polls every ScheduleInterval seconds, or holds a long poll of LongPollSeconds so \
            work starts at once. It runs as root (it changes /etc/shadow through chpasswd). SIGTERM stops it gracefully.
            """,
        subcommands: [Run.self], defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the agent (the default).")
        @Option(help: "Agent.conf path.") var config = "Agent.conf"
        @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

        func run() async throws {
            let c: AgentConfig
            do { c = try AgentConfig.load(config) } catch { throw ValidationError("\(error)") }
            var logger = Logger(label: "custody-agent")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            let http = try AgentClient.make(c)
            let service = AgentService(config: c, client: AgentClient(http: http, config: c), logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            do { try await group.run() } catch {
                try? await http.shutdown()
                throw ExitCode(3)
            }
            try await http.shutdown()
        }
    }
}
