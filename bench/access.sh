#!/usr/bin/env bash
# What access control costs a retrieval, in one run over HTTPS on loopback (16 connections, wrk):
# /healthz (the ceiling), a retrieval of an account no rules govern (the gate's cheap read), and
# the holder's retrieval of a checked-out account (the gate finds the checkout).
# Usage: bench/access.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
DURATION=${BENCH_DURATION:-15s}
PORT=${BENCH_PORT:-17993}
DIR=$(mktemp -d /tmp/custody-access.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
echo "bcryptCost: 10" >"$DIR/custody.yaml"
start_custody
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
RID=$(api -d '{"name":"bench-acl","dnsName":"acl.bench.test","type":"Linux"}' "$URL/resources" | json '["id"]')
PLAIN=$(api -d '{"loginName":"plain","password":"Plain-Bench-Pass-1"}' "$URL/resources/$RID/accounts" | json '["id"]')
GATED=$(api -d '{"loginName":"gated","password":"Gated-Bench-Pass-1"}' "$URL/resources/$RID/accounts" | json '["id"]')
api -X PUT -d '{"autoApprove":{"always":true},"maxMinutes":600}' "$URL/resources/$RID/accounts/$GATED/access-control" >/dev/null
REQ=$(api -d '{"reason":"bench","minutes":600}' "$URL/resources/$RID/accounts/$GATED/access-requests" | json '["id"]')
api -X POST "$URL/access-requests/$REQ/checkout" >/dev/null
BASE="https://localhost:$PORT"
run_wrk() { wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$1" >"$DIR/$2.txt"; }
run_wrk "$BASE/healthz" healthz
run_wrk "$URL/resources/$RID/accounts/$PLAIN/password" plain
run_wrk "$URL/resources/$RID/accounts/$GATED/password" holder
rps() { awk '/Requests\/sec/ {print $2}' "$DIR/$1.txt"; }
p99() { awk '$1 == "99%" {print $2}' "$DIR/$1.txt"; }
non2xx() { awk '/Non-2xx/ {print $4}' "$DIR/$1.txt"; }
python3 - "$(rps healthz)" "$(rps plain)" "$(rps holder)" "$(p99 healthz)" "$(p99 plain)" "$(p99 holder)" "$(non2xx plain)" "$(non2xx holder)" <<'PY'
import sys
hz, pl, ho, hz99, pl99, ho99, bad1, bad2 = sys.argv[1:]
hz, pl, ho = float(hz), float(pl), float(ho)
print(f"/healthz (ceiling)          : {hz:8.0f} req/s  p99 {hz99}")
print(f"retrieval, no rules         : {pl:8.0f} req/s  p99 {pl99}  ratio {pl/hz:.3f}  non-2xx {bad1 or 0}")
print(f"retrieval by the holder     : {ho:8.0f} req/s  p99 {ho99}  ratio {ho/hz:.3f}  non-2xx {bad2 or 0}")
PY
