import ArgumentParser
import Foundation
import ResetPlugins

struct DialectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dialect", abstract: "Device dialects: what the server loaded, and checking new files.",
        discussion: """
            A dialect is a YAML file describing a device family's CLI (README "Network devices"). Put new ones in the \
            directory named by the config key dialectsDir and restart the server; `check` validates them first, offline.
            """,
        subcommands: [List.self, Check.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the dialects the server loaded.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.print(try await options.client().call(.GET, "/dialects"), json: options.json,
                columns: ["id", "name", "resourceTypes", "changes", "saves", "builtIn"])
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate dialect files (no server needed); exits 1 on the first bad one.")
        @Argument(help: "Dialect files (*.yaml).") var files: [String]
        func run() throws {
            for file in files {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
                do {
                    let d = try DialectLibrary.parse(text, file: file)
                    print("\(file): ok: \(d.id) (\(d.name)); modes \(d.modes.map(\.name).joined(separator: " > ")); "
                        + "credentials \(d.allCredentials.map(\.name).joined(separator: ", ")); types \(d.resourceTypes.joined(separator: ", "))")
                } catch {
                    FileHandle.standardError.write(Data("custody: \(error)\n".utf8))
                    throw ExitCode(1)
                }
            }
        }
    }
}
