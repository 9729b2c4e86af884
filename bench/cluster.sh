#!/usr/bin/env bash
# make bench: password retrievals per second (16 keep-alive connections in all, wrk, HTTPS on
# loopback), then remote resets per minute (40 accounts on 4 hosts of one local sshd, sudo), each on
# one SQLite node and on 1, 2 and 3 nodes sharing one PostgreSQL, in one run.
# Usage: bench/cluster.sh PATH/TO/custody   (as root: PostgreSQL runs as the postgres user; local users)
set -euo pipefail
BIN=${1:?path to the custody binary}
DURATION=${BENCH_DURATION:-15s}
PARTS=${BENCH_PARTS:-retrievals resets}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-cluster.XXXXXX)
chmod 755 "$DIR"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGPORT=${BENCH_PG_PORT:-17960}
PIDS=()
mkdir -p "$OUT"
SSHD=
cleanup() {
  for p in "${PIDS[@]:-}" $SSHD; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true; rm -rf "$DIR"
}
trap cleanup EXIT

# PostgreSQL on loopback, durable as a production server would be (fsync on).
mkdir -p "$DIR/pg" && chown postgres "$DIR/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/pg" -U postgres --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg" -o "-p $PGPORT -k $DIR/pg -c listen_addresses=127.0.0.1 -c max_connections=200" \
  -l "$DIR/pg/pg.log" -w start >/dev/null
PGPW="Bench-Store-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
psql -X -q -h "$DIR/pg" -p "$PGPORT" -U postgres -d postgres -c "CREATE ROLE custody LOGIN CREATEDB PASSWORD '$PGPW'" >/dev/null

# start NAME PORT [storeURL]: one node; prints nothing, fills $DIR/NAME.*
start() {
  local name=$1 port=$2 url=${3:-}
  local args=(serve --data-dir "$DIR/$name" --host 127.0.0.1 --port "$port" --master-key-file "$DIR/master.key.$KEYSET")
  [ -n "$url" ] && args+=(--store-url "$url")
  CUSTODY_STORE_PASSWORD=$PGPW CUSTODY_NODE_NAME=$name "$BIN" "${args[@]}" >"$DIR/$name.out" 2>"$DIR/$name.err" &
  PIDS+=($!)
  for _ in $(seq 1 300); do grep -q "listening on" "$DIR/$name.out" 2>/dev/null && return 0; sleep 0.1; done
  echo "node $name did not start"; cat "$DIR/$name.err"; exit 1
}
# Waits for the nodes only (the reset part's sshd runs on).
stop_all() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done; PIDS=(); }

api() { curl -sf --cacert "$CA" -H "Content-Type: application/json" ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# prepare FIRST: admin token, one resource with one account; sets TOKEN, RID, AID.
prepare() {
  local first=$1 url="https://localhost:$2"
  CA="$DIR/$first/tls/server.crt"
  local initial; initial=$(sed -n 's/^initial admin password: //p' "$DIR/$first.out")
  TOKEN=
  TOKEN=$(api -d "{\"username\":\"admin\",\"password\":\"$initial\"}" "$url/api/v1/auth/login" | field token)
  api -d "{\"currentPassword\":\"$initial\",\"newPassword\":\"Bench-Keeper-Pass-1\"}" "$url/api/v1/auth/password" >/dev/null
  RID=$(api -d '{"name":"bench01","dnsName":"bench01.test","type":"Linux"}' "$url/api/v1/resources" | field id)
  AID=$(api -d '{"loginName":"svc","password":"Bench-Stored-Pass-1x"}' "$url/api/v1/resources/$RID/accounts" | field id)
}

# nodes TAG N BASE: N nodes on a new database of their own (ports BASE+10N+i, names TAGN-nodei), the
# first prepared; sets ports.
nodes() {
  local tag=$1 n=$2 base=$3
  KEYSET=$tag$n
  psql -X -q -h "$DIR/pg" -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE ${tag}vault$n OWNER custody" >/dev/null
  local url="postgres://custody@127.0.0.1:$PGPORT/${tag}vault$n?sslmode=disable"
  ports=()
  for i in $(seq 1 "$n"); do
    start "$tag$n-node$i" $((base + 10 * n + i)) "$url"
    ports+=($((base + 10 * n + i)))
  done
  prepare "$tag$n-node1" "${ports[0]}"
}

# measure LABEL PORT...: wrk against each node at once, 16 connections shared; prints req/s and p99.
measure() {
  local label=$1; shift
  local c=$(( 16 / $# )) i=0 wrks=()
  for port in "$@"; do
    wrk -t1 -c"$c" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" \
      "https://localhost:$port/api/v1/resources/$RID/accounts/$AID/password" >"$DIR/wrk-${label// /_}-$i.txt" &
    wrks+=($!)
    i=$((i + 1))
  done
  wait "${wrks[@]}"
  python3 - "$label" "$DIR"/wrk-"${label// /_}"-*.txt <<'PY' | tee -a "$OUT/cluster.txt"
import re, sys
label, files = sys.argv[1], sys.argv[2:]
rps = 0.0; p99 = []
for f in files:
    t = open(f).read()
    m = re.search(r"Requests/sec:\s+([\d.]+)", t); rps += float(m.group(1)) if m else 0
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    if m: p99.append(float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)])
print(f"{label:28s} {rps:9.0f} retrievals/s   p99 {max(p99) if p99 else float('nan'):7.1f} ms")
PY
}

: >"$OUT/cluster.txt"
if [[ " $PARTS " == *" retrievals "* ]]; then
echo "password retrievals (each audited), 16 connections in all, $DURATION, $(nproc) cores" | tee -a "$OUT/cluster.txt"
KEYSET=sqlite
start sqlite 17970
prepare sqlite 17970
measure "sqlite, 1 node" 17970
stop_all
for n in 1 2 3; do
  nodes pg "$n" 17970
  # Every node serves with its own certificate: wrk does not check it.
  measure "postgresql, $n node(s)" "${ports[@]}"
  stop_all
done
fi
[[ " $PARTS " == *" resets "* ]] || exit 0

# Resets per minute: 40 accounts on 4 "hosts" (127.0.0.1-4, one sshd), sudo, per-host limit 4,
# 8 reset workers per node; queued through node 1 (any node claims), each reset changes and verifies.
NACC=${BENCH_RESET_ACCOUNTS:-40}
SSHPORT=${BENCH_SSH_PORT:-22991}
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$DIR/hk"
{
  echo "Port $SSHPORT"
  for h in 1 2 3 4; do echo "ListenAddress 127.0.0.$h"; done
  echo "HostKey $DIR/hk"; echo "PidFile $DIR/sshd.pid"; echo "UsePAM yes"; echo "PasswordAuthentication yes"
  echo "MaxStartups 200:30:300"; echo "MaxSessions 200"
} >"$DIR/sshd_config"
mkuser() { id -u "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"; echo "$1:$2" | chpasswd; }
mkuser custody_csudo Sudo-Pass-1
echo 'custody_csudo ALL=(ALL) ALL' >/etc/sudoers.d/custody-cluster-bench && chmod 440 /etc/sudoers.d/custody-cluster-bench
for i in $(seq -w 0 $((NACC - 1))); do mkuser "cr_$i" "Bench-Start-$i"; done
/usr/sbin/sshd -D -f "$DIR/sshd_config" -E "$DIR/sshd.log" & SSHD=$!
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.4/$SSHPORT) 2>/dev/null && break; sleep 0.1; done

# resets LABEL PORT...: import the accounts through the first node, configure, rotate; prints resets/min.
resets() {
  local label=$1 url="https://localhost:$2/api/v1" rids=()
  {
    echo "resourceName,accountName,dnsName,type,password"
    for h in 1 2 3 4; do echo "rhost$h,custody_csudo,127.0.0.$h,Linux,Sudo-Pass-1"; done
    for i in $(seq -w 0 $((NACC - 1))); do echo "rhost$(( 10#$i % 4 + 1 )),cr_$i,127.0.0.$(( 10#$i % 4 + 1 )),Linux,Bench-Start-$i"; done
  } >"$DIR/reset-import.csv"
  curl -sf --cacert "$CA" -H "Content-Type: text/csv" -H "Authorization: Bearer $TOKEN" --data-binary @"$DIR/reset-import.csv" "$url/import/resources" >/dev/null
  for h in 1 2 3 4; do
    local rid
    rid=$(api "$url/resources" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]==sys.argv[1]][0])' "rhost$h")
    api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$SSHPORT,\"loginAccount\":\"custody_csudo\",\"elevation\":\"sudo\"}" \
      "$url/resources/$rid/reset-config" >/dev/null
    rids+=("$rid")
  done
  local secs ok
  read -r secs ok < <(python3 "$(dirname "$0")/rotate.py" localhost "$2" "$CA" "$TOKEN" cr_ "${rids[@]}")
  python3 -c "import sys; l,s,o,n=sys.argv[1],float(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]); print(f'{l:28s} {o/s*60:9.0f} resets/min   {o}/{n} succeeded in {s:.1f} s')" \
    "$label" "$secs" "$ok" "$NACC" | tee -a "$OUT/cluster.txt"
}

echo "remote resets through sudo (change and verify), $NACC accounts on 4 hosts, $(nproc) cores" | tee -a "$OUT/cluster.txt"
KEYSET=rsqlite
start rsqlite 17980
prepare rsqlite 17980
resets "sqlite, 1 node" 17980
stop_all
for n in 1 2 3; do
  nodes rpg "$n" 18010
  resets "postgresql, $n node(s)" "${ports[0]}"
  stop_all
done
