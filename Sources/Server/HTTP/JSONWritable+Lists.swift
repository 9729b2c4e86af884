import Foundation

// The views of the lists, written as `JSONEncoder.api` writes them (keys sorted, nil left out);
// `JSONWriterTests` holds them to it.

extension ResourceView: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("createdAt", createdAt); w.field("customFields", customFields); w.field("department", department)
            w.field("description", description); w.field("dnsName", dnsName); w.field("id", id); w.field("location", location)
            w.field("name", name); w.field("owner", owner); w.field("passwordPolicy", passwordPolicy); w.field("type", type)
            w.field("updatedAt", updatedAt); w.field("url", url)
        }
    }
}

extension AccountView: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("createdAt", createdAt); w.field("customFields", customFields); w.field("description", description)
            w.field("id", id); w.field("lastChangedAt", lastChangedAt); w.field("lastVerifiedAt", lastVerifiedAt)
            w.field("loginName", loginName); w.field("notes", notes); w.field("passwordKnown", passwordKnown)
            w.field("resourceId", resourceId); w.field("syncStatus", syncStatus)
        }
    }
}

extension AuditView: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("account", account, nullWhenAbsent: true); w.field("accountId", accountId, nullWhenAbsent: true)
            w.field("at", at); w.field("id", id); w.field("ip", ip); w.field("message", message, nullWhenAbsent: true)
            w.field("operation", operation); w.field("outcome", outcome); w.field("reason", reason, nullWhenAbsent: true)
            w.field("resource", resource, nullWhenAbsent: true); w.field("resourceId", resourceId, nullWhenAbsent: true)
            w.field("ticketId", ticketId, nullWhenAbsent: true); w.field("user", user)
        }
    }
}

extension AgentView: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("arch", arch); w.field("bindings", bindings); w.field("enrolledAt", enrolledAt); w.field("hostname", hostname)
            w.field("id", id); w.field("lastSeenAt", lastSeenAt); w.field("longPolling", longPolling); w.field("os", os)
            w.field("pendingBindings", pendingBindings); w.field("resourceId", resourceId); w.field("revokedAt", revokedAt)
            w.field("status", status); w.field("version", version)
        }
    }
}

extension TaskView: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("accountId", accountId); w.field("createdAt", createdAt); w.field("finishedAt", finishedAt); w.field("id", id)
            w.field("kind", kind); w.field("phase", phase); w.field("resourceId", resourceId)
            if let result {
                w.field("result") { w in
                    w.field("code", result.code)
                    w.field("message", result.message)
                }
            }
            w.field("startedAt", startedAt); w.field("state", state); w.field("via", via)
        }
    }
}

extension RunListItem: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("group", group); w.field("groupId", groupId); w.field("id", id); w.field("requestedBy", requestedBy)
            w.field("startedAt", startedAt); w.field("state", state)
            w.field("summary") { w in
                w.field("failed", summary.failed); w.field("pending", summary.pending); w.field("skipped", summary.skipped)
                w.field("succeeded", summary.succeeded); w.field("total", summary.total)
            }
            w.field("trigger", trigger)
        }
    }
}
