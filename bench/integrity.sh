#!/usr/bin/env bash
# make bench (integrity part): the integrity check over N accounts (default 1,000) on a local sshd.
# Reports the run's wall time and the peak number of concurrent SSH connections to the host,
# sampled with `ss` every 20 ms (the engine's per-host limit is 4). Needs root (it makes users
# ci_0000...; they are left in place for the next run). Usage: bench/integrity.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
N=${BENCH_INTEGRITY_ACCOUNTS:-1000}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-ibench.XXXXXX)
SSHPORT=${BENCH_SSH_PORT:-22993}
PORT=${BENCH_PORT:-17993}
mkdir -p "$OUT" /run/sshd
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
now() { date +%s.%N; }

ssh-keygen -q -t ed25519 -N '' -f "$DIR/hk"
cat >"$DIR/sshd_config" <<CFG
Port $SSHPORT
ListenAddress 127.0.0.1
HostKey $DIR/hk
PidFile $DIR/sshd.pid
UsePAM yes
PasswordAuthentication yes
StrictModes no
MaxStartups 200:30:300
CFG
# Users in bulk: newusers makes them (and their passwords) in one pass.
: >"$DIR/users"
for i in $(seq -f '%04g' 0 $((N - 1))); do
  id -u "ci_$i" >/dev/null 2>&1 && echo "ci_$i:Int-Bench-$i" >>"$DIR/passwords" || echo "ci_$i:Int-Bench-$i:::bench:/nonexistent:/bin/sh" >>"$DIR/users"
done
[ -s "$DIR/users" ] && newusers "$DIR/users"
[ -s "$DIR/passwords" ] && chpasswd <"$DIR/passwords"
/usr/sbin/sshd -D -f "$DIR/sshd_config" -E "$DIR/sshd.log" & PIDS+=($!)
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$SSHPORT) 2>/dev/null && break; sleep 0.1; done

echo "bcryptCost: 10" >"$DIR/custody.yaml"
source "$(dirname "$0")/lib.sh"
start_custody
{
  echo "resourceName,accountName,dnsName,type,password"
  for i in $(seq -f '%04g' 0 $((N - 1))); do echo "bench-int,ci_$i,127.0.0.1,Linux,Int-Bench-$i"; done
} >"$DIR/import.csv"
CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
RID=$(api "$URL/resources" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]=="bench-int"][0])')
api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$SSHPORT}" "$URL/resources/$RID/reset-config" >/dev/null

# Peak concurrent connections to the host, sampled while the run lasts.
( peak=0; while [ ! -e "$DIR/stop" ]; do
    c=$(ss -Htn state established "( dport = :$SSHPORT )" 2>/dev/null | wc -l); [ "$c" -gt "$peak" ] && peak=$c && echo "$peak" >"$DIR/peak"
    sleep 0.02; done ) & PIDS+=($!)
T0=$(now)
RUN=$(api -X POST "$URL/integrity/run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runId"])')
while :; do
  STATE=$(api "$URL/integrity-runs/$RUN" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["state"], r["summary"]["total"], r["summary"]["succeeded"])')
  [ "${STATE%% *}" = finished ] && break
  sleep 0.2
done
T1=$(now)
touch "$DIR/stop"
SUMMARY=$(api "$URL/reports/integrity" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])')
python3 - "$N" "$T0" "$T1" "$(cat "$DIR/peak" 2>/dev/null || echo 0)" "$STATE" "$SUMMARY" <<'PY' | tee "$OUT/integrity-summary.txt"
import sys
n, t0, t1, peak, state, summary = sys.argv[1:]
wall = float(t1) - float(t0)
print(f"Integrity check over {n} accounts on one local sshd: {wall:.2f} s wall ({int(n)/wall:.1f} accounts/s), "
      f"peak concurrent SSH connections to the host {peak} (per-host limit 4); run {state}; report {summary}")
PY
