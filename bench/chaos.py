#!/usr/bin/env python3
"""make chaos (and make bench): kill -9 trials of a rotation.

Each trial starts the real `custody serve` on a fresh data directory with a 20-account group on
a custom-plugin target (one file per account is the target's state; the plugin sleeps a little
so kills land mid-reset), starts a rotation, kills the server with SIGKILL at a random moment,
starts it again on the same data directory and waits for every reset to settle. It then checks
every account: the target's password must be the vault's current one or one of its candidates.

Reports passwords lost (goal 0), accounts left `unknown`, and the recovery time after restart.
Usage: bench/chaos.py PATH/TO/custody [trials] [accounts]
"""
import json, os, random, signal, ssl, subprocess, sys, tempfile, time, urllib.request

BIN = sys.argv[1]
TRIALS = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("CHAOS_TRIALS", "20"))
ACCOUNTS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
PORT = int(os.environ.get("BENCH_PORT", "17994"))
OUT = os.environ.get("BENCH_OUT", "bench-out")

PLUGIN = r'''#!/usr/bin/env python3
import json, os, random, sys, time
job = json.load(sys.stdin)
d = job["settings"]["options"]["dir"]
path = os.path.join(d, job["account"]["LOGINNAME"])
current = open(path).read()
op = job["operation"]
def answer(obj):
    print(json.dumps(obj)); sys.stdout.flush(); sys.exit(0)
if op == "notify": answer({"ok": True})
time.sleep(random.uniform(0, 0.15))
if job.get("currentPassword") != current: answer({"ok": False, "code": "authenticationFailed", "message": "wrong password"})
if op == "verify": answer({"ok": True})
tmp = path + ".tmp"
with open(tmp, "w") as f: f.write(job["newPassword"]); f.flush(); os.fsync(f.fileno())
os.rename(tmp, path)
time.sleep(random.uniform(0, 0.15))
answer({"ok": True})
'''


class Server:
    def __init__(self, data):
        self.data, self.proc, self.token = data, None, None
        self.ctx = None

    def start(self):
        path = os.path.join(self.data, "stdout")
        offset = os.path.getsize(path) if os.path.exists(path) else 0
        log = open(path, "a")
        self.proc = subprocess.Popen([BIN, "serve", "--data-dir", self.data + "/data", "--host", "127.0.0.1", "--port", str(PORT),
                                      "--config", self.data + "/custody.yaml"], stdout=log, stderr=subprocess.STDOUT)
        for _ in range(600):
            with open(path) as f:
                f.seek(offset)
                if "listening on" in f.read():
                    break
            time.sleep(0.05)
        else:
            raise SystemExit("custody did not start: " + open(os.path.join(self.data, "stdout")).read()[-2000:])
        self.ctx = ssl.create_default_context(cafile=self.data + "/data/tls/server.crt")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def call(self, method, path, body=None, token=None):
        req = urllib.request.Request(f"https://localhost:{PORT}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if token or self.token:
            req.add_header("Authorization", "Bearer " + (token or self.token))
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def login(s, user, password, new=None):
    code, r = s.call("POST", "/auth/login", {"username": user, "password": password})
    assert code == 200, (code, r)
    if new:
        code, _ = s.call("POST", "/auth/password", {"currentPassword": password, "newPassword": new}, token=r["token"])
        assert code == 204, code
        return login(s, user, new)
    return r["token"]


def setup(s, target_dir):
    initial = [l for l in open(os.path.join(s.data, "stdout")) if l.startswith("initial admin password: ")][0].split(": ", 1)[1].strip()
    s.token = login(s, "admin", initial, "Chaos-Keeper-Pass-1")
    assert s.call("POST", "/users", {"username": "admin2", "password": "Chaos-Second-Pass-1", "role": "administrator"})[0] == 201
    admin2 = login(s, "admin2", "Chaos-Second-Pass-1", "Chaos-Second-Pass-2")
    # Two-person control: admin2 (made by admin) writes the plugin, admin approves it.
    code, l = s.call("POST", "/listeners", {"name": "chaos", "kind": "custom", "resourceTypes": ["Chaos App"], "script": PLUGIN,
                                            "approver": "admin"}, token=admin2)
    assert code == 201, l
    assert s.call("POST", f"/listeners/{l['id']}/approve")[0] == 200
    assert s.call("POST", "/resource-types", {"name": "Chaos App", "plugin": "external:chaos"})[0] == 201
    code, r = s.call("POST", "/resources", {"name": "chaos", "dnsName": "chaos.example.test", "type": "Chaos App"})
    rid = r["id"]
    accounts = {}
    for i in range(ACCOUNTS):
        name, pw = f"svc{i:02d}", f"Chaos-Start-{i:02d}!"
        open(os.path.join(target_dir, name), "w").write(pw)
        code, a = s.call("POST", f"/resources/{rid}/accounts", {"loginName": name, "password": pw})
        accounts[name] = a["id"]
    assert s.call("PUT", f"/resources/{rid}/reset-config", {"mode": "agentless", "options": {"dir": target_dir}})[0] == 200
    code, g = s.call("POST", "/groups", {"name": "chaos", "resourceIds": [rid]})
    assert s.call("PUT", f"/groups/{g['id']}/rotation", {"schedule": {"kind": "never", "at": "01:00"}, "passwordChoice": "unique"})[0] == 200
    return rid, g["id"], accounts


def trial(n):
    tmp = tempfile.mkdtemp(prefix="custody-chaos-")
    target_dir = os.path.join(tmp, "target")
    os.makedirs(target_dir)
    open(os.path.join(tmp, "custody.yaml"), "w").write("bcryptCost: 4\n")
    s = Server(tmp)
    s.start()
    try:
        rid, gid, accounts = setup(s, target_dir)
        code, run = s.call("POST", f"/groups/{gid}/rotation/run")
        assert code in (200, 202), run
        delay = random.uniform(0, 2.5)
        time.sleep(delay)
        s.kill()
        restart = time.time()
        s.start()
        s.token = login(s, "admin", "Chaos-Keeper-Pass-1")
        settled = None
        while time.time() - restart < 180:
            _, report = s.call("GET", f"/rotation-runs/{run['runId']}")
            if report["state"] == "finished":
                settled = time.time() - restart
                break
            time.sleep(0.1)
        lost = unknown = candidates = 0
        for name, aid in accounts.items():
            _, a = s.call("GET", f"/resources/{rid}/accounts/{aid}/password")
            held = open(os.path.join(target_dir, name)).read()
            cands = [c["password"] for c in a.get("candidates", [])]
            if held != a["password"] and held not in cands:
                lost += 1
                print(f"  trial {n}: LOST {name}", file=sys.stderr)
            candidates += held != a["password"]
            _, acc = s.call("GET", f"/resources/{rid}/accounts/{aid}")
            unknown += acc.get("syncStatus") == "unknown"
        return dict(delay=delay, lost=lost, unknown=unknown, candidate=candidates, recovery=settled)
    finally:
        s.stop()
        subprocess.run(["rm", "-rf", tmp])


def main():
    os.makedirs(OUT, exist_ok=True)
    results = []
    for n in range(1, TRIALS + 1):
        r = trial(n)
        results.append(r)
        print(f"trial {n:2d}: killed after {r['delay']:.2f} s, lost {r['lost']}, unknown {r['unknown']}, "
              f"held only as candidate {r['candidate']}, recovery {r['recovery'] if r['recovery'] is None else round(r['recovery'], 2)} s")
    rec = sorted(r["recovery"] for r in results if r["recovery"] is not None)
    lost = sum(r["lost"] for r in results)
    summary = (f"Kill -9 trials: {TRIALS} trials x {ACCOUNTS} accounts; passwords lost {lost} (goal 0); "
               f"accounts left unknown {sum(r['unknown'] for r in results)}; accounts whose working password was only a candidate "
               f"{sum(r['candidate'] for r in results)}; unsettled trials {sum(r['recovery'] is None for r in results)}; "
               f"recovery after restart median {rec[len(rec) // 2]:.2f} s, max {rec[-1]:.2f} s" if rec else "no trial settled")
    print(summary)
    open(os.path.join(OUT, "chaos-summary.txt"), "w").write(summary + "\n")
    sys.exit(1 if lost else 0)


main()
