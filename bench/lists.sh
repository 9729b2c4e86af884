#!/usr/bin/env bash
# bench/lists.sh PATH/TO/custody: pages of 100 from 10,000 resources, from 10,000 accounts of one
# resource, from 10,000 groups, users, user groups, agents, tasks, rotation and integrity runs, and
# from the audit trail, against /healthz (the HTTP ceiling) in the same run; wrk, 16 keep-alive
# connections over TLS on loopback. Goal: p99 of a page ≤ 20 ms. BENCH_PERF="tasks agents" (names of
# the runs below; 1 is "first") records a perf profile of the server during those runs. Users, user groups, agents, tasks
# and runs are written into the database directly (bench/seed_lists.py).
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
python3 "$(dirname "$0")/seed_lists.py" "$DIR/data/custody.sqlite" "$ROWS"
RMID=$(middle "/resources?type=Linux")
AMID=$(middle "/resources/$BULK/accounts?x=1")
GMID=$(middle "/groups?x=1")
UMID=$(middle "/users?x=1")
UGMID=$(middle "/user-groups?x=1")
AGMID=$(middle "/agents?x=1")
TMID=$(middle "/tasks?x=1")
RRMID=$(middle "/rotation-runs?x=1")
IRMID=$(middle "/integrity-runs?x=1")

run_wrk() { wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$1"; }
# run_list NAME URL: wrk into lists-NAME.txt; with BENCH_PERF naming it (1 means "first"), a perf
# profile of the server meanwhile, into lists-NAME.perf.
run_list() {
  local perf=""
  local want=${BENCH_PERF:-}
  case " ${want/#1/first} " in *" $1 "*)
    perf record -F 499 -g -p "${PIDS[0]}" -o "$OUT/lists-$1.perf" -- sleep 8 >/dev/null 2>&1 & perf=$! ;;
  esac
  run_wrk "$2" >"$OUT/lists-$1.txt"
  [ -z "$perf" ] || wait "$perf"
}
run_list healthz "https://localhost:$PORT/healthz"
run_list first "$URL/resources?limit=100"
run_list middle "$URL/resources?type=Linux&limit=100&cursor=$RMID"
run_list prefix "$URL/resources?name=node05&limit=100"
run_list accounts "$URL/resources/$BULK/accounts?limit=100&cursor=$AMID"
run_list audit "$URL/audit?limit=100"
run_list groups "$URL/groups?limit=100&cursor=$GMID"
run_list users "$URL/users?limit=100&cursor=$UMID"
run_list usergroups "$URL/user-groups?limit=100&cursor=$UGMID"
run_list agents "$URL/agents?limit=100&cursor=$AGMID"
run_list tasks "$URL/tasks?limit=100&cursor=$TMID"
run_list rotationruns "$URL/rotation-runs?limit=100&cursor=$RRMID"
run_list integrityruns "$URL/integrity-runs?limit=100&cursor=$IRMID"
run_list 1000 "$URL/resources?limit=1000"
# One client at a time: the latency of a page itself, without 15 others queued before it.
wrk -t1 -c1 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL/resources?type=Linux&limit=100&cursor=$RMID" >"$OUT/lists-single.txt"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
p50() { awk '$1 == "50%" {print $2}' "$1"; }
HZ=$(rps "$OUT/lists-healthz.txt")
{
  echo "lists: $ROWS resources of one account each, and one resource of $ROWS accounts (wrk -t2 -c16, $DURATION each)"
  printf '%-44s %10s %10s %10s %8s\n' "request" "req/s" "p50" "p99" "/healthz"
  for f in healthz first middle prefix accounts audit groups users usergroups agents tasks rotationruns integrityruns 1000 single; do
    r=$(rps "$OUT/lists-$f.txt")
    printf '%-44s %10.0f %10s %10s %8.3f\n' "$f" "$r" "$(p50 "$OUT/lists-$f.txt")" "$(p99 "$OUT/lists-$f.txt")" "$(python3 -c "print($r/$HZ)")"
  done
  echo "(first: /resources?limit=100; middle: page 50 of 100 by cursor with type=Linux; prefix: name=node05;"
  echo " accounts: page 50 of 100 of one resource's accounts; audit: newest 100; groups, users, usergroups, agents,"
  echo " tasks, rotationruns, integrityruns: page 50 of $ROWS of each;"
  echo " 1000: /resources?limit=1000;"
  echo " single: the middle page with one connection)"
} | tee "$OUT/lists-summary.txt"
