#!/usr/bin/env python3
"""Simulated agents for make bench: enrolls one agent per token through the real enrollment API,
then signs COUNT empty polls (wait 0) ahead of time, as the real agent signs them, round robin over
the agents, and writes them one per line (agent, time, nonce, signature) for bench/agentpoll.lua:
wrk then sends them over its keep-alive TLS connections, so the client's signing is not what is
measured. Usage: agentsign.py HOST PORT CA COUNT OUT TOKEN..."""
import base64, hashlib, http.client, json, os, ssl, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

host, port, ca, count, out, tokens = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:]
RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
BODY = b'{"wait":0,"version":"sim"}'
DIGEST = hashlib.sha256(BODY).hexdigest()

def sign(key, path, body_digest):
    t, nonce = str(int(time.time())), base64.b64encode(os.urandom(16)).decode()
    canon = f"POST\n{path}\n{t}\n{nonce}\n{body_digest}".encode()
    return t, nonce, base64.b64encode(key.sign(canon)).decode()

conn = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(cafile=ca))
agents = []
for i, token in enumerate(tokens):
    key = Ed25519PrivateKey.generate()
    body = json.dumps({"token": token, "hostname": f"sim-{i:05d}", "os": "linux", "arch": "x86_64", "version": "sim",
                       "signingKey": base64.b64encode(key.public_key().public_bytes(*RAW)).decode(),
                       "sealingKey": base64.b64encode(X25519PrivateKey.generate().public_key().public_bytes(*RAW)).decode()}).encode()
    t, nonce, sig = sign(key, "/agent/v1/enroll", hashlib.sha256(body).hexdigest())
    conn.request("POST", "/agent/v1/enroll", body=body, headers={"Content-Type": "application/json", "X-Custody-Time": t,
                 "X-Custody-Nonce": nonce, "X-Custody-Signature": sig})
    r = conn.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit(f"enroll: {r.status} {data[:200]!r}")
    agents.append((json.loads(data)["agentId"], key))
with open(out, "w") as f:
    for n in range(count):
        agent, key = agents[n % len(agents)]
        t, nonce, sig = sign(key, "/agent/v1/poll", DIGEST)
        f.write(f"{agent}\t{t}\t{nonce}\t{sig}\n")
