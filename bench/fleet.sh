#!/usr/bin/env bash
# make bench (fleet): BENCH_FLEET (10,000) simulated agents (bench/fleet.py) enrolled through the
# real enrollment API hold long polls on one release server: its RSS and CPU at rest, the time a
# job queued for a random agent takes to reach it, and the recovery after a restart (every agent
# back on a long poll; polls told 503 on the way). Usage: bench/fleet.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
N=${BENCH_FLEET:-10000}
OUT=${BENCH_OUT:-bench-out}
PORT=${BENCH_PORT:-17996}
DIR=$(mktemp -d /tmp/custody-fleet.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}" $(cat "$DIR/pid" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
printf 'bcryptCost: 10\nagentLongPollSeconds: 25\nlogLevel: warning\n' >"$DIR/custody.yaml"
source "$(dirname "$0")/lib.sh"
start_custody
SERVER=${PIDS[0]}
echo "$SERVER" >"$DIR/pid"
# The restart fleet.py runs: stop (SIGTERM, bounded), start on the same data, wait for it to listen.
cat >"$DIR/restart.sh" <<SH
#!/usr/bin/env bash
set -e
kill \$(cat "$DIR/pid"); for _ in \$(seq 1 300); do kill -0 \$(cat "$DIR/pid") 2>/dev/null || break; sleep 0.1; done
kill -9 \$(cat "$DIR/pid") 2>/dev/null || true
"$BIN" serve --data-dir "$DIR/data" --host 127.0.0.1 --port "$PORT" --config "$DIR/custody.yaml" >"$DIR/stdout2" 2>"$DIR/stderr2" &
echo \$! >"$DIR/pid"
for _ in \$(seq 1 300); do grep -q "listening on" "$DIR/stdout2" 2>/dev/null && exit 0; sleep 0.1; done
echo "the server did not start again" >&2; exit 1
SH
python3 "$(dirname "$0")/fleet.py" localhost "$PORT" "$CA" "$TOKEN" "$SERVER" "$N" --restart "bash $DIR/restart.sh" --out "$OUT/fleet.json"
python3 - "$OUT/fleet.json" <<'PY' | tee "$OUT/fleet.txt"
import json, sys
f = json.load(open(sys.argv[1]))
print(f"{f['agents']} agents holding long polls: server RSS {f['rest_rss_mb']} MB, CPU at rest {f['rest_cpu_percent_of_one_core']} % of one core")
print(f"a job queued for a random agent reaches it: p50 {f['job_reaches_agent_p50_ms']} ms, p99 {f['job_reaches_agent_p99_ms']} ms (n={f['samples']})")
print(f"restart: every agent back on a long poll {f['recovered_after_seconds']} s after the server listened again "
      f"({f['polls_told_503_during_recovery']} polls told 503 on the way)")
PY
