import ArgumentParser

@main
struct CustodyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Custody: a privileged password vault that resets passwords on the systems they belong to.",
        discussion: """
            Run the server with `custody serve`. Every other command talks to a running server over its REST API
            (set CUSTODY_SERVER, CUSTODY_TOKEN and CUSTODY_CA_FILE, or pass --server, --token, --ca-file), except
            `custody key rotate` and `custody audit verify`, which work on a stopped server's data directory, and
            `custody backup`, which works on a data directory and backup files.
            """,
        subcommands: [
            ServeCommand.self, KeyCommand.self, AuditCommand.self, LoginCommand.self, ResourceCommand.self,
            AccountCommand.self, PasswordCommand.self, UserCommand.self, TokenCommand.self, ShareCommand.self,
            GroupCommand.self, ImportCommand.self, TaskCommand.self, ResetConfigCommand.self, ListenerCommand.self, NotifyCommand.self, DirectoryCommand.self, AgentAdminCommand.self,
            DialectCommand.self, StoreCommand.self, WhoAmICommand.self, LogoutCommand.self, TOTPCommand.self, UserGroupCommand.self,
            RotationCommand.self, IntegrityCommand.self, ReportCommand.self, PolicyCommand.self, ResourceTypeCommand.self, PasswordSettingsCommand.self,
            ClusterCommand.self, OpenAPICommand.self, AccessCommand.self, BackupCommand.self,
        ])
}
