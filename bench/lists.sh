#!/usr/bin/env bash
# bench/lists.sh PATH/TO/custody: pages of 100 from 10,000 resources, from 10,000 accounts of one
# resource, from 10,000 groups and from the audit trail, against /healthz (the HTTP ceiling) in the same run; wrk, 16
# keep-alive connections over TLS on loopback. Goal: p99 of a page ≤ 20 ms.
set -euo pipefail
BIN=${1:?path to the custody binary}
DURATION=${BENCH_DURATION:-10s}
ROWS=${BENCH_ROWS:-10000}
PORT=${BENCH_PORT:-17995}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-lists.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
mkdir -p "$OUT"
echo "bcryptCost: 10" >"$DIR/custody.yaml"
source "$(dirname "$0")/lib.sh"
start_custody

python3 - "$ROWS" >"$DIR/import.csv" <<'PY'
import sys, secrets
n = int(sys.argv[1])
print("resourceName,accountName,dnsName,type,password")
for i in range(n):
    print(f"node{i:05d},svc,node{i:05d}.bench.test,Linux,{secrets.token_urlsafe(18)}")
for i in range(n):
    print(f"bulk,acct{i:05d},bulk.bench.test,Linux,{secrets.token_urlsafe(18)}")
PY
CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null

# A cursor from the middle of each list: walk half of it a page at a time, as a client would.
middle() {  # $1 = path with its query
  local cursor="" n=$(( ROWS / 200 ))
  for _ in $(seq 1 "$n"); do
    cursor=$(api -D - -o /dev/null "$URL$1&limit=100${cursor:+&cursor=$cursor}" | tr -d '\r' | sed -n 's/^[Xx]-[Nn]ext-[Cc]ursor: //p')
  done
  echo "$cursor"
}
# Groups, one resource each, made over one keep-alive connection (a curl per group would be the bench).
python3 - "$ROWS" "$PORT" "$CA" "$TOKEN" <<'PY'
import http.client, json, ssl, sys
n, port, ca, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = http.client.HTTPSConnection("localhost", port, context=ssl.create_default_context(cafile=ca))
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
for i in range(n):
    c.request("POST", "/api/v1/groups", json.dumps({"name": f"team{i:05d}"}), h)
    r = c.getresponse(); r.read()
    if r.status != 201: sys.exit(f"group {i}: {r.status}")
PY
BULK=$(api "$URL/resources?name=bulk" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
RMID=$(middle "/resources?type=Linux")
AMID=$(middle "/resources/$BULK/accounts?x=1")
GMID=$(middle "/groups?x=1")

run_wrk() { wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$1"; }
run_wrk "https://localhost:$PORT/healthz" >"$OUT/lists-healthz.txt"
if [ -n "${BENCH_PERF:-}" ]; then  # a profile of the server while it answers first pages
  perf record -F 499 -g -p "${PIDS[0]}" -o "$OUT/lists-first.perf" -- sleep 8 >/dev/null 2>&1 &
  PERF=$!
fi
run_wrk "$URL/resources?limit=100" >"$OUT/lists-first.txt"
[ -n "${PERF:-}" ] && wait "$PERF"
run_wrk "$URL/resources?type=Linux&limit=100&cursor=$RMID" >"$OUT/lists-middle.txt"
run_wrk "$URL/resources?name=node05&limit=100" >"$OUT/lists-prefix.txt"
run_wrk "$URL/resources/$BULK/accounts?limit=100&cursor=$AMID" >"$OUT/lists-accounts.txt"
run_wrk "$URL/audit?limit=100" >"$OUT/lists-audit.txt"
run_wrk "$URL/groups?limit=100&cursor=$GMID" >"$OUT/lists-groups.txt"
run_wrk "$URL/resources?limit=1000" >"$OUT/lists-1000.txt"
# One client at a time: the latency of a page itself, without 15 others queued before it.
wrk -t1 -c1 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL/resources?type=Linux&limit=100&cursor=$RMID" >"$OUT/lists-single.txt"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
p50() { awk '$1 == "50%" {print $2}' "$1"; }
HZ=$(rps "$OUT/lists-healthz.txt")
{
  echo "lists: $ROWS resources of one account each, and one resource of $ROWS accounts (wrk -t2 -c16, $DURATION each)"
  printf '%-44s %10s %10s %10s %8s\n' "request" "req/s" "p50" "p99" "/healthz"
  for f in healthz first middle prefix accounts audit groups 1000 single; do
    r=$(rps "$OUT/lists-$f.txt")
    printf '%-44s %10.0f %10s %10s %8.3f\n' "$f" "$r" "$(p50 "$OUT/lists-$f.txt")" "$(p99 "$OUT/lists-$f.txt")" "$(python3 -c "print($r/$HZ)")"
  done
  echo "(first: /resources?limit=100; middle: page 50 of 100 by cursor with type=Linux; prefix: name=node05;"
  echo " accounts: page 50 of 100 of one resource's accounts; audit: newest 100; groups: page 50 of $ROWS groups;"
  echo " 1000: /resources?limit=1000;"
  echo " single: the middle page with one connection)"
} | tee "$OUT/lists-summary.txt"
