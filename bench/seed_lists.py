#!/usr/bin/env python3
"""bench/seed_lists.py DB N: adds N users, N user groups (one member each), N agents, N tasks and
N rotation and N integrity runs (one task each) to a running server's SQLite database, for the list
benchmark. Rows are written directly: making them through the API would be the benchmark (a user
costs a bcrypt hash, a run a rotation). Nothing here is read by anything but the lists."""
import os, sqlite3, sys, time, uuid

db_path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(db_path, timeout=30)
now = time.time()


def insert(table, rows):
    """Each row names some columns; the others take their defaults."""
    names = list(rows[0].keys())
    db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                   [tuple(r[c] for c in names) for r in rows])


admin = db.execute("SELECT id, passwordHash FROM users WHERE username = 'admin'").fetchone()
bulk = db.execute("SELECT id FROM resources WHERE name = 'bulk'").fetchone()[0]
accounts = [r[0] for r in db.execute("SELECT id FROM accounts WHERE resourceId = ? ORDER BY loginName LIMIT ?", (bulk, n))]
groups = [r[0] for r in db.execute("SELECT id FROM groups ORDER BY name LIMIT ?", (n,))]
if len(accounts) < n or len(groups) < n:
    sys.exit(f"seed_lists: want {n} accounts of 'bulk' and {n} groups, found {len(accounts)} and {len(groups)}")

with db:
    users = [dict(id=f"bu{i:05d}", username=f"benchuser{i:05d}", passwordHash=admin[1], role="passwordUser",
                  createdAt=now) for i in range(n)]
    insert("users", users)
    insert("userGroups", [dict(id=f"bg{i:05d}", name=f"benchgroup{i:05d}") for i in range(n)])
    insert("userGroupMembers", [dict(groupId=f"bg{i:05d}", userId=f"bu{i:05d}") for i in range(n)])
    insert("agents", [dict(id=str(uuid.uuid4()), hostname=f"agent{i:05d}.bench.test", os="linux", arch="x86_64", version="1",
                           signingKey=os.urandom(32), sealingKey=os.urandom(32), enrolledAt=now, lastSeenAt=now - (i % 3) * 200)
                      for i in range(n)])
    tasks, rotation, integrity = [], [], []
    for i in range(n):
        t = now - n + i
        for kind, runs in (("rot", rotation), ("int", integrity)):
            tid, rid = f"bt-{kind}-{i:05d}", f"br-{kind}-{i:05d}"
            task = dict(id=tid, kind="verify", state="failed", phase="done", via="agentless", resourceId=bulk, accountId=accounts[i],
                        host="bulk.bench.test", requestedBy="admin", requestedById=admin[0], resultCode="unreachable",
                        resultMessage="bench", createdAt=t, startedAt=t, finishedAt=t,
                        rotationRunId=rid if kind == "rot" else None, integrityRunId=rid if kind == "int" else None)
            tasks.append(task)
            entries = (f'[{{"resourceId":"{bulk}","accountId":"{accounts[i]}","resource":"bulk","account":"acct{i:05d}",'
                       f'"taskId":"{tid}"}}]')
            run = dict(id=rid, trigger="manual", requestedBy="admin", startedAt=t, entries=entries)
            if kind == "rot":
                run["groupId"] = groups[i]
            runs.append(run)
    insert("tasks", tasks)
    insert("rotationRuns", rotation)
    insert("integrityRuns", integrity)
print(f"seeded {n} users, user groups, agents, rotation and integrity runs, and {2 * n} tasks")
