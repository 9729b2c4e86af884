/// The access-control tables, the same on SQLite (`v21-access-control`) and PostgreSQL
/// (`pg7-access-control`); `real` is each one's floating-point type. Never edit: add a migration.
enum AccessControlSchema {
    static func sql(real: String) -> String {
        """
        CREATE TABLE accessPolicies (scope TEXT NOT NULL, scopeId TEXT NOT NULL, policy TEXT NOT NULL, updatedBy TEXT NOT NULL,
          updatedAt \(real) NOT NULL, PRIMARY KEY (scope, scopeId));
        CREATE TABLE accessRequests (
          id TEXT PRIMARY KEY, resourceId TEXT NOT NULL, accountId TEXT NOT NULL, resource TEXT NOT NULL, account TEXT NOT NULL, requesterId TEXT NOT NULL, requester TEXT NOT NULL,
          reason TEXT NOT NULL, ticketId TEXT, minutes INTEGER NOT NULL, state TEXT NOT NULL, approverIds TEXT NOT NULL,
          approvalsRequired INTEGER NOT NULL, exclusive INTEGER NOT NULL, resetOnCheckin INTEGER NOT NULL, pendingMinutes INTEGER NOT NULL,
          autoApproved INTEGER NOT NULL, approvals TEXT NOT NULL,
          decidedBy TEXT, comment TEXT, createdAt \(real) NOT NULL, expiresAt \(real), approvedAt \(real), checkedOutAt \(real),
          until \(real), checkedInAt \(real), checkedInBy TEXT, checkinReason TEXT, resetTaskId TEXT, resetProblem TEXT,
          catchUp INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX accessRequestsByAccount ON accessRequests(accountId, state);
        CREATE INDEX accessRequestsByTime ON accessRequests(createdAt, id);
        CREATE INDEX accessRequestsByRequester ON accessRequests(requesterId, createdAt);
        CREATE TABLE accessApprovers (requestId TEXT NOT NULL, userId TEXT NOT NULL, approvedAt \(real), PRIMARY KEY (requestId, userId));
        CREATE INDEX accessApproversByUser ON accessApprovers(userId, requestId);
        """
    }
}
