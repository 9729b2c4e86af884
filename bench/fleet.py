#!/usr/bin/env python3
"""Fleet simulator for make bench (bench/fleet.sh starts the server and gives its pid).

Enrolls N agents through the real enrollment API (one bundle's token each, PROBES of them bound
to a resource of their own), then each holds long polls over its own keep-alive TLS connection,
signs every request as the real agent does, takes and answers the jobs it is offered, and backs
off as the real agent does (Retry-After, else at random up to 2^failures s). Reports:
  - server RSS and CPU at rest with every agent holding a long poll;
  - for SAMPLES resets of a random probe's account, the time from the reset request to the job
    reaching its agent;
  - after `--restart CMD` (stops and starts the server on the same data), how long until every
    agent holds a long poll again, and how many polls were told 503.
With --hold FILE it only enrolls and holds the polls (a crowd beside another measure).
Usage: fleet.py HOST PORT CA TOKEN PID N [--probes 100] [--samples 100] [--wait 25] [--restart CMD] [--out FILE] [--hold FILE]"""
import argparse, asyncio, base64, hashlib, io, json, os, random, ssl, subprocess, sys, tarfile, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

ap = argparse.ArgumentParser()
for a in ("host", "port", "ca", "token", "pid", "n"): ap.add_argument(a)
ap.add_argument("--probes", type=int, default=100, help="at most 1000")
ap.add_argument("--samples", type=int, default=100)
ap.add_argument("--wait", type=int, default=25)
ap.add_argument("--rest", type=float, default=30)
ap.add_argument("--restart")
ap.add_argument("--out")
ap.add_argument("--hold", help="once every agent holds a long poll, write this file and keep polling until killed")
args = ap.parse_args()
N, PID, PORT = int(args.n), int(args.pid), int(args.port)
RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
CTX = ssl.create_default_context(cafile=args.ca)
stats = {"503": 0, "errors": 0}


class Conn:
    """One keep-alive HTTPS connection, HTTP/1.1, Content-Length bodies."""
    def __init__(self): self.r = self.w = None; self.fresh = True

    async def request(self, method, path, body=b"", headers=None, timeout=90):
        # A keep-alive connection the server closed while idle (httpIdleSeconds) is opened again.
        if self.w is not None and self.r.at_eof(): self.close()
        try:
            return await self._request(method, path, body, headers, timeout)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
            if self.fresh: raise
            return await self._request(method, path, body, headers, timeout)

    async def _request(self, method, path, body, headers, timeout):
        self.fresh = self.w is None
        if self.w is None:
            self.r, self.w = await asyncio.wait_for(asyncio.open_connection(args.host, PORT, ssl=CTX, server_hostname="localhost"), 30)
        h = {"Host": "localhost", "Content-Length": str(len(body)), **(headers or {})}
        self.w.write((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode() + body)
        try:
            return await asyncio.wait_for(self._read(), timeout)
        except BaseException:
            self.close()
            raise

    async def _read(self):
        status = int((await self.r.readuntil(b"\r\n")).split()[1])
        headers = {}
        while (line := await self.r.readuntil(b"\r\n")) != b"\r\n":
            k, v = line.decode().split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding") == "chunked":
            data = b""
            while (size := int((await self.r.readuntil(b"\r\n")).strip(), 16)) > 0:
                data += await self.r.readexactly(size + 2)
                data = data[:-2]
            await self.r.readuntil(b"\r\n")
        else:
            data = await self.r.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close": self.close()
        return status, headers, data

    def close(self):
        if self.w is not None: self.w.close()
        self.r = self.w = None


class Agent:
    def __init__(self, token, name):
        self.token, self.name, self.key, self.id = token, name, Ed25519PrivateKey.generate(), None
        self.conn, self.arrived, self.holding = Conn(), asyncio.Queue(), False

    async def post(self, path, obj, timeout=90):
        body = json.dumps(obj).encode()
        t, nonce = str(int(time.time())), base64.b64encode(os.urandom(16)).decode()
        canon = f"POST\n{path}\n{t}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()
        h = {"Content-Type": "application/json", "X-Custody-Time": t, "X-Custody-Nonce": nonce,
             "X-Custody-Signature": base64.b64encode(self.key.sign(canon)).decode()}
        if self.id: h["X-Custody-Agent"] = self.id
        return await self.conn.request("POST", path, body, h, timeout)

    async def enroll(self):
        pub = base64.b64encode(self.key.public_key().public_bytes(*RAW)).decode()
        seal = base64.b64encode(X25519PrivateKey.generate().public_key().public_bytes(*RAW)).decode()
        s, _, d = await self.post("/agent/v1/enroll", {"token": self.token, "hostname": self.name, "os": "linux", "arch": "x86_64",
                                                       "version": "sim", "signingKey": pub, "sealingKey": seal})
        if s >= 300: raise SystemExit(f"enroll: {s} {d[:200]!r}")
        self.id = json.loads(d)["agentId"]

    async def run(self):
        failures = 0
        while True:
            try:
                s, h, d = await self.post("/agent/v1/poll", {"wait": args.wait, "version": "sim"}, timeout=args.wait + 30)
                if s == 503:
                    stats["503"] += 1
                    raise Busy(float(h.get("retry-after", "0") or 0))
                if s >= 300: raise RuntimeError(f"poll {s}")
                failures = 0
                for job in json.loads(d)["jobs"]:
                    self.arrived.put_nowait((time.monotonic(), job["operation"]))
                    await self.answer(job)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.conn.close()
                failures += 1
                stats["errors"] += 1
                asked = e.after if isinstance(e, Busy) else 0
                await asyncio.sleep(min(asked, 3600) * random.uniform(1, 1.5) if asked > 0
                                    else random.uniform(1, max(1, min(60, 2 ** min(failures, 6)))))

    async def answer(self, job):
        path = f"/agent/v1/jobs/{job['id']}"
        s, _, _ = await self.post(path + "/renew", {"leaseId": job["leaseId"]})
        if s >= 300: return
        await self.post(path + "/result", {"leaseId": job["leaseId"], "response": {"ok": True, "message": "simulated"}})


class Busy(Exception):
    def __init__(self, after): self.after = after


async def api(conn, method, path, obj=None):
    body = json.dumps(obj).encode() if obj is not None else b""
    s, _, d = await conn.request(method, "/api/v1" + path, body, {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"})
    if s >= 300: raise SystemExit(f"{method} {path}: {s} {d[:300]!r}")
    return d


async def bundle_token(conn, resource=None):
    obj = {"os": "linux", "includeBinary": False, **({"resourceId": resource} if resource else {})}
    with tarfile.open(fileobj=io.BytesIO(await api(conn, "POST", "/agent-packages", obj))) as t:
        conf = t.extractfile("custody-agent/Agent.conf").read().decode()
    return next(l.split("=", 1)[1] for l in conf.splitlines() if l.startswith("EnrollmentToken="))


def metric(name):
    ctx = ssl.create_default_context(cafile=args.ca)
    import http.client
    c = http.client.HTTPSConnection(args.host, PORT, context=ctx, timeout=10)
    c.request("GET", "/metrics"); text = c.getresponse().read().decode(); c.close()
    return next(float(l.split()[1]) for l in text.splitlines() if l.startswith(name + " "))


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    return next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")) / 1024


async def until_held(n, limit):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            if metric("custody_agent_long_polls") >= n: return time.monotonic() - start
        except Exception: pass
        await asyncio.sleep(0.5)
    raise SystemExit(f"only {metric('custody_agent_long_polls'):.0f} of {n} agents hold a long poll after {limit} s")


def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, max(0, int(len(xs) * p + 0.999) - 1))]


async def main():
    out = {}
    admin = [Conn() for _ in range(8)]
    probes = min(args.probes, N)
    t0 = time.monotonic()
    probe_ids = []
    if probes > 0:
        rows = ["resourceName,accountName,dnsName,type,password"] + [
            f"fleet-{i:05d},root,fleet-{i:05d}.invalid,Linux,Fleet-Pass-{i:05d}-x" for i in range(probes)]
        s, _, d = await admin[0].request("POST", "/api/v1/import/resources", "\n".join(rows).encode(),
                                         {"Authorization": f"Bearer {args.token}", "Content-Type": "text/csv"})
        if s >= 300: raise SystemExit(f"import: {s} {d[:300]!r}")
        named = {r["name"]: r["id"] for r in json.loads(await api(admin[0], "GET", "/resources?limit=1000&name=fleet-"))}
        probe_ids = [named[f"fleet-{i:05d}"] for i in range(probes)]
        for rid in probe_ids: await api(admin[0], "PUT", f"/resources/{rid}/reset-config", {"mode": "agent"})
    pool = asyncio.Queue()
    for c in admin: pool.put_nowait(c)
    async def token_for(i):
        c = await pool.get()
        try: return await bundle_token(c, probe_ids[i] if i < probes else None)
        finally: pool.put_nowait(c)
    tokens = await asyncio.gather(*(token_for(i) for i in range(N)))
    agents = [Agent(t, f"fleet-{i:05d}") for i, t in enumerate(tokens)]
    esem = asyncio.Semaphore(32)
    async def enroll(a):
        async with esem: await a.enroll()
    await asyncio.gather(*(enroll(a) for a in agents))
    out["setup_seconds"] = round(time.monotonic() - t0, 1)
    print(f"enrolled {N} agents in {out['setup_seconds']} s", file=sys.stderr, flush=True)
    tasks = [asyncio.create_task(a.run()) for a in agents]
    out["all_holding_after_seconds"] = round(await until_held(N, 600), 1)
    if args.hold:
        open(args.hold, "w").write(json.dumps(out) + "\n")
        await asyncio.gather(*tasks)

    await asyncio.sleep(3)
    c0, w0 = cpu_seconds(PID), time.monotonic()
    await asyncio.sleep(args.rest)
    out["rest_cpu_percent_of_one_core"] = round((cpu_seconds(PID) - c0) / (time.monotonic() - w0) * 100, 2)
    out["rest_rss_mb"] = round(rss_mb(PID), 1)
    print(f"at rest: {out}", file=sys.stderr, flush=True)

    lat = []
    for k in range(args.samples):
        i = random.randrange(probes)
        a = agents[i]
        while not a.arrived.empty(): a.arrived.get_nowait()
        accounts = json.loads(await api(admin[0], "GET", f"/resources/{probe_ids[i]}/accounts"))
        start = time.monotonic()
        task = json.loads(await api(admin[0], "PUT", f"/resources/{probe_ids[i]}/accounts/{accounts[0]['id']}/password", {"resetType": "remote"}))["taskId"]
        at, _ = await asyncio.wait_for(a.arrived.get(), 30)
        lat.append(at - start)
        state = json.loads(await api(admin[0], "GET", f"/tasks/{task}?wait=60"))["state"]
        while state not in ("succeeded", "failed", "cancelled"):
            state = json.loads(await api(admin[0], "GET", f"/tasks/{task}?wait=60"))["state"]
    out["job_reaches_agent_p50_ms"] = round(pct(lat, 0.5) * 1000, 1)
    out["job_reaches_agent_p99_ms"] = round(pct(lat, 0.99) * 1000, 1)
    out["samples"] = len(lat)

    if args.restart:
        stats["503"] = 0
        for c in admin: c.close()
        start = time.monotonic()
        subprocess.run(args.restart, shell=True, check=True)
        listening = time.monotonic()
        out["restart_seconds"] = round(listening - start, 1)
        out["recovered_after_seconds"] = round(await until_held(N, 900), 1)
        out["polls_told_503_during_recovery"] = stats["503"]
    for t in tasks: t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out["agents"] = N
    text = json.dumps(out)
    print(text)
    if args.out: open(args.out, "w").write(text + "\n")

asyncio.run(main())
