#!/usr/bin/env python3
"""bench/seed_vault.py DATA_DIR ACCOUNTS AUDIT_ROWS: grows a stopped server's SQLite vault to ACCOUNTS
accounts (each with a password sealed as the server seals it: AES-256-GCM under the master key, the
record's identity as associated data) and AUDIT_ROWS more audit records chained as the server chains
them (HMAC-SHA256 under the vault's audit key), then moves the authenticated head. For the backup and
export benchmark: making these through the API would be the benchmark."""
import base64, hashlib, hmac, os, sqlite3, struct, sys, time, uuid
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

data, n_accounts, n_audit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
key = base64.b64decode(open(f"{data}/master.key").read().split("\n")[1])
key_id = hashlib.sha256(key).digest()[:8]
aes = AESGCM(key)


def seal(plain: bytes, identity: str) -> bytes:
    nonce = os.urandom(12)
    return bytes([1]) + key_id + nonce + aes.encrypt(nonce, plain, identity.encode())


def unseal(sealed: bytes, identity: str) -> bytes:
    assert sealed[0] == 1 and sealed[1:9] == key_id, "not sealed under this master key"
    return aes.decrypt(sealed[9:21], sealed[21:], identity.encode())


def digest(k: bytes, prev: str, rid: int, at: float, fields) -> str:
    h = hmac.new(k, digestmod=hashlib.sha256)
    for part in [prev, str(rid), "%.6f" % at] + [("s:" + f) if f is not None else "nil" for f in fields]:
        b = part.encode()
        h.update(struct.pack(">Q", len(b)))
        h.update(b)
    return h.hexdigest()


db = sqlite3.connect(f"{data}/custody.sqlite", timeout=30)
audit_key = unseal(db.execute("SELECT value FROM vaultMeta WHERE key = 'auditKey'").fetchone()[0], "custody.audit.key.v1")
owner = db.execute("SELECT id FROM users WHERE username = 'admin'").fetchone()[0]
now = time.time()
with db:
    rid = str(uuid.uuid4())
    db.execute("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES (?, 'bulk', 'bulk.bench.test', 'Linux', ?, ?, ?)",
               (rid, owner, now, now))
    accounts, secrets = [], []
    for i in range(n_accounts):
        aid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        accounts.append((aid, rid, f"svc{i:06d}", now))
        secrets.append((sid, aid, seal(f"Bulk-Pass-{i:06d}-xyz!".encode(), f"custody.secret.v1|{sid}|{aid}"), now))
    db.executemany("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES (?, ?, ?, ?)", accounts)
    db.executemany("INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy) VALUES (?, ?, 'current', ?, ?, 'admin')", secrets)
    last = db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    ident, prev = last
    batch = []
    for i in range(n_audit):
        ident += 1
        at = round(now - n_audit + i, 6)
        a = accounts[i % len(accounts)] if accounts else (None, None, None)
        fields = ["admin", "10.0.0.1", "retrieve_password", "bulk", a[2], "bench", None, "success", None, rid, a[0]]
        h = digest(audit_key, prev, ident, at, fields)
        batch.append((ident, at, *fields, prev, h))
        prev = h
        if len(batch) == 50_000:
            db.executemany("INSERT INTO audit(id, at, user, ip, operation, resource, account, reason, ticketId, outcome, message, resourceId, "
                           "accountId, prevHash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch = []
    if batch:
        db.executemany("INSERT INTO audit(id, at, user, ip, operation, resource, account, reason, ticketId, outcome, message, resourceId, "
                       "accountId, prevHash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    head = f"{ident}:{prev}:" + digest(audit_key, prev, ident, 0, ["audit.head"])
    db.execute("UPDATE settings SET value = ? WHERE key = 'audit.head'", (head,))
print(f"seeded {n_accounts} accounts and {n_audit} audit records")
