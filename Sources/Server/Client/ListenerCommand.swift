import ArgumentParser
import Foundation

struct ListenerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "listener",
        abstract: "Post-reset listeners and custom plugins (administrators; dual control).",
        discussion: """
            A listener runs after every committed password change on its resource types. A new or edited \
            listener waits in pendingApproval until an administrator other than its author approves it.
            """,
        subcommands: [List.self, Show.self, Add.self, Edit.self, Approve.self, Reject.self, Disable.self, Enable.self, Remove.self])
    static let columns = ["id", "name", "kind", "status", "revision", "secretsVia", "author", "approver"]

    struct Definition: ParsableArguments {
        @Option(help: "Unique name.") var name: String
        @Option(help: "script (PMP's reset listener) or custom (a plugin speaking the JSON protocol).") var kind = "script"
        @Option(name: .customLong("type"), help: "A resource type it runs for (repeat for several).") var types: [String] = []
        @Option(help: "Script file to upload (stored encrypted).") var script: String?
        @Option(help: "Or an absolute path to an executable on the server (pinned by SHA-256).") var executable: String?
        @Option(help: "Interpreter prefix, e.g. 'python3 -u'.") var preCommand: String?
        @Option(name: .customLong("param"), help: "An additional parameter (repeat; passed as is, never secret).") var params: [String] = []
        @Option(help: "stdin (default: one JSON document), env, or argv (PMP-compatible: visible to other local users).")
        var secretsVia: String?
        @Option(help: "The administrator asked to approve (user name).") var approver: String
        @Option(help: "Seconds before the listener is killed (default 60).") var timeout: Double?

        func body() throws -> [String: Any] {
            guard !types.isEmpty else { throw ValidationError("give at least one --type") }
            var b: [String: Any] = ["name": name, "kind": kind, "resourceTypes": types, "approver": approver, "additionalParameters": params]
            if let script {
                guard let text = try? String(contentsOfFile: script, encoding: .utf8) else { throw ValidationError("cannot read \(script)") }
                b["script"] = text
            }
            b["executable"] = executable
            b["preCommand"] = preCommand
            b["secretsVia"] = secretsVia
            b["timeoutSeconds"] = timeout
            return b
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List listeners and custom plugins with their state.")
        @OptionGroup var options: ClientOptions
        func run() async throws { Output.print(try await options.client().call(.GET, "/listeners"), json: options.json, columns: ListenerCommand.columns) }
    }
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a listener with its script, for review before approval.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/listeners/\(ListenerCommand.path(id))"), json: true, columns: []) }
    }
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a listener; it runs once another administrator approves it.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var definition: Definition
        func run() async throws {
            let out = try await options.client().call(.POST, "/listeners", json: try definition.body())
            Output.print(out, json: options.json, columns: ListenerCommand.columns + ["warnings"])
        }
    }
    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a listener's definition; it needs approval again.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        @OptionGroup var definition: Definition
        func run() async throws {
            let out = try await options.client().call(.PUT, "/listeners/\(ListenerCommand.path(id))", json: try definition.body())
            Output.print(out, json: options.json, columns: ListenerCommand.columns + ["warnings"])
        }
    }
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a listener revision (not your own).",
            discussion: "Pass --revision with the revision you reviewed (`listener show`): a newer edit is then refused, not approved.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        @Option(help: "The revision you reviewed.") var revision: Int?
        func run() async throws { try await ListenerCommand.post(options, id, "approve", revision: revision) }
    }
    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a listener revision (not your own).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        @Option(help: "The revision you reviewed.") var revision: Int?
        func run() async throws { try await ListenerCommand.post(options, id, "reject", revision: revision) }
    }
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a listener from running.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        func run() async throws { try await ListenerCommand.post(options, id, "disable") }
    }
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask to run a disabled listener again (it needs approval).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        func run() async throws { try await ListenerCommand.post(options, id, "enable") }
    }
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a listener (dual control: a second administrator approves).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id or name.") var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/listeners/\(ListenerCommand.path(id))"); print("deleted") }
    }

    static func post(_ options: ClientOptions, _ id: String, _ action: String, revision: Int? = nil) async throws {
        let query = revision.map { "?revision=\($0)" } ?? ""
        Output.print(try await options.client().call(.POST, "/listeners/\(path(id))/\(action)\(query)"), json: options.json, columns: columns)
    }

    /// A listener id or name as one path segment.
    static func path(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? id
    }
}
