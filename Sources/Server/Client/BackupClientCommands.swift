import ArgumentParser

extension BackupCommand {
    struct Now: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(commandName: "now",
            abstract: "Ask the running server to make a backup into its backupDir (super-administrators).")
        static let routes = ["POST /backups"]
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.print(try await options.client().call(.POST, "/backups"), json: options.json, columns: ["name", "bytes", "createdAt", "mode"])
        }
    }

    struct List: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(commandName: "list",
            abstract: "List the backups in the running server's backupDir, newest first (super-administrators).")
        static let routes = ["GET /backups"]
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.print(try await options.client().call(.GET, "/backups"), json: options.json, columns: ["name", "bytes", "createdAt", "trigger", "mode"])
        }
    }
}
