import ArgumentParser

/// A CLI command and the API routes it calls ("METHOD /path", the route table's templates), so a
/// test can check that every route is reachable from the CLI.
protocol CallsRoutes {
    static var routes: [String] { get }
}

extension LoginCommand: CallsRoutes { static let routes = ["POST /auth/login"] }
extension UserCommand.List: CallsRoutes { static let routes = ["GET /users"] }
extension UserCommand.Create: CallsRoutes { static let routes = ["POST /users"] }
extension UserCommand.Delete: CallsRoutes { static let routes = ["DELETE /users/:uid"] }
extension UserCommand.ResetTOTP: CallsRoutes { static let routes = ["DELETE /users/:uid/totp"] }
extension UserCommand.ChangePassword: CallsRoutes { static let routes = ["POST /auth/password"] }
extension TokenCommand.List: CallsRoutes { static let routes = ["GET /tokens"] }
extension TokenCommand.Create: CallsRoutes { static let routes = ["POST /tokens"] }
extension TokenCommand.Revoke: CallsRoutes { static let routes = ["DELETE /tokens/:tid"] }
extension GroupCommand.List: CallsRoutes { static let routes = ["GET /groups"] }
extension GroupCommand.Create: CallsRoutes { static let routes = ["POST /groups"] }
extension ShareCommand.Set: CallsRoutes {
    static let routes = ["PUT /resources/:rid/shares", "PUT /resources/:rid/accounts/:aid/shares", "PUT /groups/:gid/shares"]
}
extension AuditList: CallsRoutes { static let routes = ["GET /audit"] }
extension ImportCommand: CallsRoutes { static let routes = ["POST /import/resources"] }
extension ResetConfigCommand.Set: CallsRoutes { static let routes = ["PUT /resources/:rid/reset-config"] }
extension ResetConfigCommand.Show: CallsRoutes { static let routes = ["GET /resources/:rid/reset-config"] }
extension AgentAdminCommand.List: CallsRoutes { static let routes = ["GET /agents"] }
extension AgentAdminCommand.Package: CallsRoutes { static let routes = ["POST /agent-packages"] }
extension AgentAdminCommand.Revoke: CallsRoutes { static let routes = ["DELETE /agents/:id"] }
extension ResourceCommand.List: CallsRoutes { static let routes = ["GET /resources"] }
extension ResourceCommand.Create: CallsRoutes { static let routes = ["POST /resources"] }
extension ResourceCommand.Show: CallsRoutes { static let routes = ["GET /resources/:rid"] }
extension ResourceCommand.Delete: CallsRoutes { static let routes = ["DELETE /resources/:rid"] }
extension AccountCommand.List: CallsRoutes { static let routes = ["GET /resources/:rid/accounts"] }
extension AccountCommand.Create: CallsRoutes { static let routes = ["POST /resources/:rid/accounts"] }
extension AccountCommand.Show: CallsRoutes { static let routes = ["GET /resources/:rid/accounts/:aid"] }
extension AccountCommand.Delete: CallsRoutes { static let routes = ["DELETE /resources/:rid/accounts/:aid"] }
extension PasswordCommand.Get: CallsRoutes { static let routes = ["GET /resources/:rid/accounts/:aid/password"] }
extension PasswordCommand.Set: CallsRoutes { static let routes = ["PUT /resources/:rid/accounts/:aid/password", "GET /tasks/:tid"] }
extension PasswordCommand.Reset: CallsRoutes { static let routes = ["PUT /resources/:rid/accounts/:aid/password", "GET /tasks/:tid"] }
extension PasswordCommand.Verify: CallsRoutes { static let routes = ["POST /resources/:rid/accounts/:aid/verify", "GET /tasks/:tid"] }
extension TaskCommand.Show: CallsRoutes { static let routes = ["GET /tasks/:tid"] }
extension TaskCommand.List: CallsRoutes { static let routes = ["GET /tasks"] }
extension DialectCommand.List: CallsRoutes { static let routes = ["GET /dialects"] }
extension DirectoryCommand.Show: CallsRoutes { static let routes = ["GET /settings/directory"] }
extension DirectoryCommand.Configure: CallsRoutes { static let routes = ["PUT /settings/directory"] }
extension DirectoryCommand.Test: CallsRoutes { static let routes = ["POST /settings/directory/test"] }
extension DirectoryCommand.Remove: CallsRoutes { static let routes = ["DELETE /settings/directory"] }
extension DirectoryCommand.ImportUsers: CallsRoutes { static let routes = ["POST /directory/import/users"] }
extension DirectoryCommand.ImportResources: CallsRoutes { static let routes = ["POST /directory/import/resources"] }
extension DirectoryCommand.Sync: CallsRoutes { static let routes = ["POST /directory/sync"] }
extension ListenerCommand.List: CallsRoutes { static let routes = ["GET /listeners"] }
extension ListenerCommand.Show: CallsRoutes { static let routes = ["GET /listeners/:lid"] }
extension ListenerCommand.Add: CallsRoutes { static let routes = ["POST /listeners"] }
extension ListenerCommand.Edit: CallsRoutes { static let routes = ["PUT /listeners/:lid"] }
extension ListenerCommand.Approve: CallsRoutes { static let routes = ["POST /listeners/:lid/approve"] }
extension ListenerCommand.Reject: CallsRoutes { static let routes = ["POST /listeners/:lid/reject"] }
extension ListenerCommand.Disable: CallsRoutes { static let routes = ["POST /listeners/:lid/disable"] }
extension ListenerCommand.Enable: CallsRoutes { static let routes = ["POST /listeners/:lid/enable"] }
extension ListenerCommand.Remove: CallsRoutes { static let routes = ["DELETE /listeners/:lid"] }
extension NotifyCommand.Show: CallsRoutes { static let routes = ["GET /settings/notifications"] }
extension NotifyCommand.Configure: CallsRoutes { static let routes = ["PUT /settings/notifications"] }
extension NotifyCommand.Test: CallsRoutes { static let routes = ["POST /notifications/test"] }
extension NotifyCommand.List: CallsRoutes { static let routes = ["GET /notifications"] }
extension NotifyCommand.Event: CallsRoutes { static let routes = ["GET /notifications/events", "PUT /notifications/events/:event"] }
extension NotifyCommand.Template: CallsRoutes {
    static let routes = ["GET /notifications/templates/:event", "PUT /notifications/templates/:event", "DELETE /notifications/templates/:event"]
}
