#!/usr/bin/env bash
# make bench (agent part), with the release custody and custody-agent on this host (root):
#  (a) trigger-to-result latency of N agent resets (default 50), one after another, with long poll,
#      while BENCH_AGENT_FLEET (1,000) simulated agents (bench/fleet.py) hold long polls beside it;
#      then a smaller sample (BENCH_AGENT_PLAIN, default 5) with plain polling every 60 s;
#  (b) signed, empty polls per second from simulated agents (signed ahead by bench/agentsign.py,
#      sent by wrk with bench/agentpoll.lua) against /healthz requests per second, in the same run;
#  (c) the idle agent's RSS and CPU time over 30 s of long polling.
# Latency is measured by the client, from the reset request to the task's end (GET /tasks/{id}?wait). Usage: bench/agent.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
AGENT="$(dirname "$BIN")/custody-agent"
N=${BENCH_AGENT_RESETS:-50}
PLAIN=${BENCH_AGENT_PLAIN:-5}
OUT=${BENCH_OUT:-bench-out}
PORT=${BENCH_PORT:-17994}
DIR=$(mktemp -d /tmp/custody-abench.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
[ -x "$AGENT" ] || { echo "build custody-agent in release beside $BIN first" >&2; exit 2; }

: >"$DIR/users"
for i in $(seq -f '%04g' 0 $((N - 1))); do id -u "ca_$i" >/dev/null 2>&1 || echo "ca_$i:Agent-Bench-$i:::bench:/nonexistent:/bin/sh" >>"$DIR/users"; done
[ -s "$DIR/users" ] && newusers "$DIR/users"
printf 'bcryptCost: 10\nagentLongPollSeconds: 25\n' >"$DIR/custody.yaml"
source "$(dirname "$0")/lib.sh"
start_custody
{ echo "resourceName,accountName,dnsName,type,password"
  for i in $(seq -f '%04g' 0 $((N - 1))); do echo "bench-agent,ca_$i,bench-agent.invalid,Linux,Agent-Bench-$i"; done; } >"$DIR/import.csv"
CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
RID=$(api "$URL/resources" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]=="bench-agent"][0])')
api -X PUT -d '{"mode":"agent"}' "$URL/resources/$RID/reset-config" >/dev/null
api -d "{\"os\":\"linux\",\"resourceId\":\"$RID\",\"serverURL\":\"https://localhost:$PORT\"}" "$URL/agent-packages" >"$DIR/bundle.tar.gz"
tar xzf "$DIR/bundle.tar.gz" -C "$DIR"
CONF="$DIR/custody-agent/Agent.conf"

start_agent() { "$DIR/custody-agent/custody-agent" run --config "$CONF" >>"$DIR/agent.log" 2>&1 & APID=$!; PIDS+=($APID); }
latency() { # one reset at a time; prints seconds from the request to the task's end (seen through ?wait)
  python3 - "$1" "$RID" "$CA" "$TOKEN" "$PORT" <<'PY'
import http.client, json, ssl, sys, time
n, rid, ca, token, port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
conn = http.client.HTTPSConnection("localhost", port, context=ssl.create_default_context(cafile=ca))
h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
def call(m, p, b=None):
    conn.request(m, "/api/v1" + p, body=json.dumps(b) if b is not None else None, headers=h); r = conn.getresponse(); d = r.read()
    if r.status >= 300: raise SystemExit(f"{p}: {r.status} {d[:200]!r}")
    return json.loads(d) if d else None
accounts = [a["id"] for a in call("GET", f"/resources/{rid}/accounts")][:n]
for aid in accounts:
    t0 = time.monotonic()
    t = call("PUT", f"/resources/{rid}/accounts/{aid}/password", {"resetType": "remote"})["taskId"]
    task = call("GET", f"/tasks/{t}?wait=60")
    while task["state"] not in ("succeeded", "failed", "cancelled"): task = call("GET", f"/tasks/{t}?wait=60")
    if task["state"] != "succeeded": raise SystemExit(f"reset failed: {task}")
    print(f"{time.monotonic() - t0:.3f}")
PY
}
pct() { sort -n | awk '{a[NR]=$1} END {p50=a[int((NR+1)/2)]; i=int(NR*0.99+0.999); if(i<1)i=1; if(i>NR)i=NR; printf "p50 %.3f s, p99 %.3f s (n=%d)", p50, a[i], NR}'; }

# A crowd of BENCH_AGENT_FLEET (1,000) simulated agents holds long polls beside the real agent.
FLEET=${BENCH_AGENT_FLEET:-1000}
if [ "$FLEET" -gt 0 ]; then
  ulimit -n 65536 2>/dev/null || true
  python3 "$(dirname "$0")/fleet.py" localhost "$PORT" "$CA" "$TOKEN" "${PIDS[0]}" "$FLEET" --probes 0 --hold "$DIR/fleet-ready" >"$DIR/fleet.log" 2>&1 &
  FPID=$!; PIDS+=($FPID)
  for _ in $(seq 1 3000); do [ -s "$DIR/fleet-ready" ] && break; kill -0 "$FPID" 2>/dev/null || { cat "$DIR/fleet.log" >&2; exit 1; }; sleep 0.2; done
  [ -s "$DIR/fleet-ready" ] || { echo "the fleet did not settle" >&2; exit 1; }
fi
start_agent
for _ in $(seq 1 200); do grep -q enrolled "$DIR/agent.log" 2>/dev/null && break; sleep 0.1; done
LONG=$(latency "$N" | pct)
[ "$FLEET" -gt 0 ] && { kill "$FPID" 2>/dev/null || true; wait "$FPID" 2>/dev/null || true; }
# (c) the idle agent, long polling
sleep 2
T0=$(awk '{print $14+$15}' /proc/$APID/stat); sleep 30; T1=$(awk '{print $14+$15}' /proc/$APID/stat)
RSS=$(awk '/VmRSS/ {print $2}' /proc/$APID/status)
CPU=$(python3 -c "print(f'{($T1-$T0)/$(getconf CLK_TCK)/30*100:.2f}')")
kill "$APID"; wait "$APID" 2>/dev/null || true
sed -i 's/^LongPollSeconds=.*/LongPollSeconds=0/; s/^ScheduleInterval=.*/ScheduleInterval=60/' "$CONF"
start_agent
PLAINR=$(latency "$PLAIN" | pct)
kill "$APID"; wait "$APID" 2>/dev/null || true

# (b) poll capacity: BENCH_POLL_AGENTS agents enrolled through the API sign BENCH_POLL_COUNT polls
# ahead of time (bench/agentsign.py); wrk sends them over 16 keep-alive TLS connections, then
# /healthz the same way, in the same run.
TOKENS=()
for _ in $(seq 1 "${BENCH_POLL_AGENTS:-64}"); do
  TOKENS+=("$(api -d '{"os":"linux","includeBinary":false}' "$URL/agent-packages" | tar xzO custody-agent/Agent.conf | sed -n 's/^EnrollmentToken=//p')")
done
python3 "$(dirname "$0")/agentsign.py" localhost "$PORT" "$CA" "${BENCH_POLL_COUNT:-150000}" "$DIR/polls" "${TOKENS[@]}"
POLLS_OUT=$(POLLS="$DIR/polls" wrk -t2 -c16 -d10s --latency -s "$(dirname "$0")/agentpoll.lua" "https://localhost:$PORT/agent/v1/poll" 2>&1)
echo "$POLLS_OUT" >"$OUT/wrk-agentpoll.txt"
grep -q "errors_status 0" <<<"$POLLS_OUT" || { echo "polls answered other than 200:" >&2; echo "$POLLS_OUT" >&2; exit 1; }
POLLS=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$POLLS_OUT")
POLL99=$(awk '$1 == "99%" {print $2}' <<<"$POLLS_OUT")
HEALTH=$(wrk -t2 -c16 -d10s "https://localhost:$PORT/healthz" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}')
RATIO=$(python3 -c "print(f'{$POLLS/$HEALTH:.3f}')")
{
  echo "agent resets, trigger to result, long poll, beside $FLEET simulated agents: $LONG"
  echo "agent resets, trigger to result, 60 s polling:  $PLAINR"
  echo "signed empty polls/s (${BENCH_POLL_AGENTS:-64} agents, 16 connections): $POLLS (p99 $POLL99); /healthz $HEALTH req/s; ratio $RATIO"
  echo "idle agent (long poll): RSS ${RSS} KiB, CPU ${CPU} % over 30 s"
} | tee "$OUT/agent.txt"
