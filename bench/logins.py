#!/usr/bin/env python3
"""make bench: a flood of failed logins against the real `custody serve`.

Two runs on fresh data directories with the default bcrypt cost (12): the default throttle, and
the peer, the same server with its limits raised out of reach so every attempt runs bcrypt (how it
behaved before the throttle). In each run a separate process starts 200 threads that send a failed
login for `admin` from 127.0.0.1 at once (each its own TLS connection), while this process samples
`GET /healthz` from 127.0.0.2 (a new connection each time) and, mid-flood, `admin` logs in with the
right password from 127.0.0.2. The client shares the machine's cores with the server. Reports /healthz p50/p99, the flood's
answers and the correct login's status and time, and the ratio of the two runs' p99.
Usage: bench/logins.py PATH/TO/custody
"""
import http.client, json, os, socket, ssl, subprocess, sys, tempfile, threading, time

BIN = sys.argv[1]
PORT = int(os.environ.get("BENCH_PORT", "17995"))
OUT = os.environ.get("BENCH_OUT", "bench-out")
FLOOD = 200


def request(ctx, method, path, body=None, token=None, source="127.0.0.1", timeout=60):
    conn = http.client.HTTPSConnection("localhost", PORT, context=ctx, timeout=timeout, source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = conn.getresponse()
        text = r.read()
        try:
            return r.status, (json.loads(text) if text else None)
        except ValueError:
            return r.status, None
    finally:
        conn.close()


def run(limits):
    tmp = tempfile.mkdtemp(prefix="custody-logins-")
    with open(tmp + "/custody.yaml", "w") as f:
        f.write("".join(f"{k}: {v}\n" for k, v in limits.items()) or "logLevel: info\n")
    log = open(tmp + "/stdout", "w")
    proc = subprocess.Popen([BIN, "serve", "--data-dir", tmp + "/data", "--host", "127.0.0.1", "--port", str(PORT),
                             "--config", tmp + "/custody.yaml"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            if "listening on" in open(tmp + "/stdout").read():
                break
            time.sleep(0.05)
        else:
            raise SystemExit("custody did not start: " + open(tmp + "/stdout").read()[-2000:])
        ctx = ssl.create_default_context(cafile=tmp + "/data/tls/server.crt")
        initial = [l for l in open(tmp + "/stdout") if l.startswith("initial admin password: ")][0].split(": ", 1)[1].strip()
        code, r = request(ctx, "POST", "/api/v1/auth/login", {"username": "admin", "password": initial}, source="127.0.0.2")
        assert code == 200, (code, r)
        code, _ = request(ctx, "POST", "/api/v1/auth/password", {"currentPassword": initial, "newPassword": "Bench-Keeper-Pass-1"},
                          token=r["token"], source="127.0.0.2")
        assert code == 204, code

        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                t = time.perf_counter()
                code, _ = request(ctx, "GET", "/healthz", source="127.0.0.2")
                samples.append((time.perf_counter() - t, code))
                time.sleep(0.02)

        # The flood runs in its own process, so its 200 handshaking threads do not slow the sampler's.
        flood_script = f"""
import http.client, json, ssl, sys, threading
ctx = ssl.create_default_context(cafile={tmp!r} + "/data/tls/server.crt")
answers, lock = {{}}, threading.Lock()
barrier = threading.Barrier({FLOOD})
def guess():
    barrier.wait()
    try:
        c = http.client.HTTPSConnection("localhost", {PORT}, context=ctx, timeout=120, source_address=("127.0.0.1", 0))
        c.request("POST", "/api/v1/auth/login", body=json.dumps({{"username": "admin", "password": "wrong-guess-123"}}),
                  headers={{"Content-Type": "application/json"}})
        r = c.getresponse(); body = r.read()
        try: code = json.loads(body)["error"]["code"]
        except Exception: code = ""
        key = f"{{r.status}} {{code}}"
    except Exception as e:
        key = type(e).__name__
    with lock: answers[key] = answers.get(key, 0) + 1
ts = [threading.Thread(target=guess) for _ in range({FLOOD})]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps(answers))
"""
        sampler = threading.Thread(target=sample)
        sampler.start()
        time.sleep(0.5)
        baseline = len(samples)
        t0 = time.perf_counter()
        flood = subprocess.Popen([sys.executable, "-c", flood_script], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        t1 = time.perf_counter()
        code, body = request(ctx, "POST", "/api/v1/auth/login", {"username": "admin", "password": "Bench-Keeper-Pass-1"}, source="127.0.0.2")
        correct = {"status": code, "seconds": round(time.perf_counter() - t1, 3)}
        answers = json.loads(flood.communicate(timeout=600)[0])
        flood_seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
        during = sorted(s for s, _ in samples[baseline:])
        p = lambda q: round(during[min(len(during) - 1, int(q * len(during)))] * 1000, 1)
        return {"healthz": {"samples": len(during), "p50Ms": p(0.5), "p99Ms": p(0.99), "maxMs": round(during[-1] * 1000, 1),
                            "non200": sum(1 for _, c in samples if c != 200)},
                "flood": answers, "floodSeconds": round(flood_seconds, 2), "correctLoginFromAnotherAddress": correct}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    throttled = run({})
    unthrottled = run({"lockoutThreshold": 100000, "loginAddressLimit": 100000, "loginNameLimit": 100000})
    report = {"throttled": throttled, "peerEveryAttemptRunsBcrypt": unthrottled,
              "p99RatioThrottledToPeer": round(throttled["healthz"]["p99Ms"] / max(unthrottled["healthz"]["p99Ms"], 0.1), 3)}
    os.makedirs(OUT, exist_ok=True)
    with open(OUT + "/logins.json", "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    ok = throttled["healthz"]["p99Ms"] < 250 and throttled["correctLoginFromAnotherAddress"]["status"] == 200
    print("goal (/healthz p99 < 250 ms, correct login from another address succeeds):", "met" if ok else "NOT met")


main()
