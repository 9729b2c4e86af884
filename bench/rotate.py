#!/usr/bin/env python3
"""Queue a remote reset for every account whose login name starts with PREFIX on the given
resources, over one keep-alive HTTPS
connection, then wait for every task. Prints "seconds succeeded". Used by bench/dirdb.sh so the
client is not what is measured (a curl and a python per request cost more than a reset).
Usage: rotate.py HOST PORT CA TOKEN PREFIX RESOURCE_ID..."""
import http.client, json, ssl, sys, time

host, port, ca, token, prefix, rids = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
ctx = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection(host, port, context=ctx)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

def call(method, path, body=None):
    conn.request(method, "/api/v1" + path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data else None

accounts = [(rid, a["id"]) for rid in rids for a in call("GET", f"/resources/{rid}/accounts") if a["loginName"].startswith(prefix)]
start = time.monotonic()
tasks = [call("PUT", f"/resources/{rid}/accounts/{aid}/password", {"resetType": "remote"})["taskId"] for rid, aid in accounts]
ok = 0
for t in tasks:
    state = call("GET", f"/tasks/{t}?wait=60")["state"]
    ok += state == "succeeded"
print(f"{time.monotonic() - start:.2f} {ok}")
