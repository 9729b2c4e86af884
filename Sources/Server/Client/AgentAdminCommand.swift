import ArgumentParser
import Foundation

struct AgentAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Agents: bundles, the registry, revocation (administrators).",
        discussion: """
            A bundle holds Agent.conf with a one-time enrollment token (7 days by default), the server's certificate, \
            install.sh (install|start|stop|remove|status, a systemd service) and the agent binary when the server has it \
            beside itself. Unpack it on the target and run `sudo ./install.sh install && sudo ./install.sh start`.
            """,
        subcommands: [Package.self, List.self, Bind.self, Unbind.self, Revoke.self])

    struct Package: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an agent bundle (tar.gz).")
        @OptionGroup var options: ClientOptions
        @Option(help: "linux or windows.") var os = "linux"
        @Option(help: "Bind the agent to this resource id (otherwise it serves resources whose DNS name is its host name).") var resource: String?
        @Option(help: "The URL agents reach the server at (default: the one this command uses).") var serverURL: String?
        @Option(help: "Where to write the bundle.") var output = "custody-agent.tar.gz"
        func run() async throws {
            let client = try options.client()
            var body: [String: Any] = ["os": os, "serverURL": serverURL ?? client.base]
            body["resourceId"] = resource
            let data = try await client.fetch(.POST, "/agent-packages", json: body)
            guard FileManager.default.createFile(atPath: output, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(output)")
            }
            print("wrote \(output) (\(data.count) bytes); it holds a one-time enrollment token: keep it private")
        }
    }
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List agents by host name: version, last poll, resources bound.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "Host names starting with this, whatever their case.") var name: String?
        @Option(help: "online, offline or revoked.") var status: String?
        func run() async throws {
            Output.print(try await list.rows(try options.client(), Query.path("/agents", [("name", name), ("status", status)])), json: options.json,
                columns: ["id", "hostname", "os", "arch", "version", "status", "lastSeenAt", "resourceId"])
        }
    }
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an agent: its requests are refused and its queued jobs cancelled.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/agents/\(id)"); print("revoked") }
    }
}
