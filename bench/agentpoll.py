#!/usr/bin/env python3
"""Simulated agents for make bench: each enrolls with its own token, then sends signed, empty
polls (wait 0) over one keep-alive HTTPS connection for SECONDS. Prints polls per second.
Usage: agentpoll.py HOST PORT CA SECONDS PROCESSES TOKEN..."""
import base64, hashlib, http.client, json, multiprocessing, os, ssl, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

host, port, ca, seconds, procs, tokens = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)

def post(conn, path, body, key, agent):
    data = json.dumps(body).encode()
    t, nonce = str(int(time.time())), base64.b64encode(os.urandom(16)).decode()
    canon = f"POST\n{path}\n{t}\n{nonce}\n{hashlib.sha256(data).hexdigest()}".encode()
    headers = {"Content-Type": "application/json", "X-Custody-Time": t, "X-Custody-Nonce": nonce,
               "X-Custody-Signature": base64.b64encode(key.sign(canon)).decode()}
    if agent: headers["X-Custody-Agent"] = agent
    conn.request("POST", path, body=data, headers=headers)
    r = conn.getresponse(); out = r.read()
    if r.status >= 300: raise SystemExit(f"{path}: {r.status} {out[:200]!r}")
    return json.loads(out)

def run(token, q):
    conn = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(cafile=ca))
    key = Ed25519PrivateKey.generate()
    enroll = {"token": token, "hostname": f"sim-{os.getpid()}", "os": "linux", "arch": "x86_64", "version": "sim",
              "signingKey": base64.b64encode(key.public_key().public_bytes(*RAW)).decode(),
              "sealingKey": base64.b64encode(X25519PrivateKey.generate().public_key().public_bytes(*RAW)).decode()}
    agent = post(conn, "/agent/v1/enroll", enroll, key, None)["agentId"]
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        post(conn, "/agent/v1/poll", {"wait": 0, "version": "sim"}, key, agent)
        n += 1
    q.put(n)

if __name__ == "__main__":
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=run, args=(t, q)) for t in tokens[:procs]]
    for p in ps: p.start()
    total = sum(q.get() for _ in ps)
    for p in ps: p.join()
    print(f"{total / seconds:.0f}")
