import Foundation

// The views of the agent, task and run lists, written as `JSONEncoder.api` writes them (keys
// sorted, nil left out); `JSONWriterTests` holds them to it.

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
