import Foundation
import Hummingbird

extension Routes {
    func backups(_ t: RouteTable) {
        t.add(.post, "/backups", "Make a backup now into backupDir (super-administrators); 201 with the file's name and what it holds; "
            + "409 while another backup is being made", response: .object(BackupInfo.self)) { _, ctx in
            try Reply.json(try await custody.backups.create(by: try ctx.caller(), ip: ctx.remoteIP), status: .created)
        }
        t.add(.get, "/backups", "The backups in backupDir, newest first (super-administrators)", response: .list(BackupInfo.self)) { _, ctx in
            try Reply.json(try custody.backups.list(by: try ctx.caller()))
        }
    }
}
