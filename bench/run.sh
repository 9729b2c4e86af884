#!/usr/bin/env bash
# make bench: password retrieval vs /healthz over HTTPS on loopback (16 connections, wrk), and the
# server's RSS with 10,000 accounts. Usage: bench/run.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
DURATION=${BENCH_DURATION:-15s}
ACCOUNTS=${BENCH_ACCOUNTS:-10000}
DIR=$(mktemp -d /tmp/custody-bench.XXXXXX)
PORT=${BENCH_PORT:-17990}
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

"$BIN" serve --data-dir "$DIR/data" --host 127.0.0.1 --port "$PORT" >"$DIR/stdout" 2>"$DIR/stderr" &
PID=$!
for _ in $(seq 1 300); do grep -q "listening on" "$DIR/stdout" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$DIR/stdout" || { echo "server did not start"; cat "$DIR/stderr"; exit 1; }
URL="https://localhost:$PORT"
CA="$DIR/data/tls/server.crt"
INITIAL=$(sed -n 's/^initial admin password: //p' "$DIR/stdout")
api() { curl -sf --cacert "$CA" -H "Content-Type: ${CT:-application/json}" ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$@"; }
TOKEN=$(api -d "{\"username\":\"admin\",\"password\":\"$INITIAL\"}" "$URL/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
api -d "{\"currentPassword\":\"$INITIAL\",\"newPassword\":\"Bench-Keeper-Pass-1\"}" "$URL/api/v1/auth/password" >/dev/null
rss() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
RSS_EMPTY=$(rss)

python3 - "$ACCOUNTS" >"$DIR/import.csv" <<'PY'
import sys, secrets
n = int(sys.argv[1])
print("resourceName,accountName,dnsName,type,password")
for i in range(n):
    print(f"host{i // 10:05d},acct{i % 10},host{i // 10:05d}.bench.test,Linux,{secrets.token_urlsafe(18)}")
PY
T0=$(date +%s.%N)
CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/api/v1/import/resources" >"$DIR/import.json"
T1=$(date +%s.%N)
IMPORTED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$DIR/import.json")
RSS_LOADED=$(rss)

RID=$(api "$URL/api/v1/resources" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
AID=$(api "$URL/api/v1/resources/$RID/accounts" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

run_wrk() { wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$1" ; }
run_wrk "$URL/healthz" >"$OUT/wrk-healthz.txt"
run_wrk "$URL/api/v1/resources/$RID/accounts/$AID/password?reason=bench" >"$OUT/wrk-password.txt"
RSS_AFTER=$(rss)

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
HZ=$(rps "$OUT/wrk-healthz.txt"); PW=$(rps "$OUT/wrk-password.txt")
python3 - "$HZ" "$PW" "$(p99 "$OUT/wrk-healthz.txt")" "$(p99 "$OUT/wrk-password.txt")" "$RSS_EMPTY" "$RSS_LOADED" "$RSS_AFTER" "$IMPORTED" "$T0" "$T1" <<'PY' | tee "$OUT/summary.txt"
import sys
hz, pw, hz99, pw99, empty, loaded, after, imported, t0, t1 = sys.argv[1:]
print(f"password retrieval  : {float(pw):10.0f} req/s   p99 {pw99}  (16 connections, wrk, HTTPS, each retrieval audited)")
print(f"/healthz (ceiling)  : {float(hz):10.0f} req/s   p99 {hz99}")
print(f"ratio retrieval/healthz: {float(pw)/float(hz):.3f}")
print(f"import of {imported} accounts over CSV: {float(t1)-float(t0):.1f} s")
print(f"RSS: empty {int(empty)//1024} MiB, with {imported} accounts {int(loaded)//1024} MiB, after the load {int(after)//1024} MiB")
PY
